//! The provider adapter of each channel, built from the channel's stored settings and
//! kept for a short while so a busy dispatcher does not rebuild it per send. The cache
//! is only a cache: a channel changed on another node is picked up when its entry
//! expires.
//!
//! Every adapter shares one HTTP client under the outbound guard
//! ([`leadline_providers::outbound`]): it calls only what the operator's policy allows,
//! follows no redirects and reads answers up to a cap.

use std::sync::Arc;
use std::time::Duration;

use leadline_core::{ChannelId, FieldErrors};
use leadline_providers::outbound::{ClientOptions, OutboundClient, OutboundPolicy};
use leadline_providers::{ChannelConfig, Provider, ProviderContext};
use leadline_store::channels::Channel;

const CACHE_TTL: Duration = Duration::from_secs(30);
/// A provider that does not answer in this time is retried later.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct ChannelProviders {
    http: OutboundClient,
    public_url: Arc<str>,
    cache: moka::sync::Cache<ChannelId, (Arc<Channel>, Arc<dyn Provider>)>,
}

impl ChannelProviders {
    /// `public_url` is where providers reach this server (for webhooks). Calls only
    /// the public internet: see [`ChannelProviders::with_policy`].
    pub fn new(public_url: &str) -> Self {
        Self::with_policy(public_url, OutboundPolicy::default())
    }

    /// Like [`ChannelProviders::new`], letting through what `policy` allows besides.
    pub fn with_policy(public_url: &str, policy: OutboundPolicy) -> Self {
        let options = ClientOptions {
            timeout: Some(PROVIDER_TIMEOUT),
            connect_timeout: Some(Duration::from_secs(5)),
            pool_max_idle_per_host: Some(256),
        };
        let http = OutboundClient::new(policy, options)
            .expect("the HTTP client builds with static settings");
        Self {
            http,
            public_url: public_url.trim_end_matches('/').into(),
            cache: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(CACHE_TTL)
                .build(),
        }
    }

    /// The URL a provider calls for this channel's webhooks.
    pub fn webhook_url(&self, channel_id: ChannelId) -> String {
        format!("{}/webhooks/providers/{channel_id}", self.public_url)
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The guarded client every adapter uses.
    pub fn outbound(&self) -> &OutboundClient {
        &self.http
    }

    /// Refuses a configuration whose URLs (`settings.url`, `settings.apiBaseUrl`,
    /// `settings.sendsmsUrl`) the outbound guard would refuse, naming each field. Only
    /// URLs given are checked: the adapters' defaults are the providers' public APIs.
    pub async fn check_outbound_urls(&self, config: &ChannelConfig<'_>) -> Result<(), FieldErrors> {
        let mut errors = FieldErrors::new();
        for key in leadline_providers::outbound_url_settings(config.kind) {
            let Some(url) = config.settings.get(*key).and_then(|value| value.as_str()) else {
                continue;
            };
            if let Err(refusal) = self.http.check_url(url).await {
                errors.push(format!("settings.{key}"), refusal.to_string());
            }
        }
        errors.finish(())
    }

    /// Builds the adapter of `channel`, or names what is missing from its settings.
    pub fn build(&self, channel: &Channel) -> Result<Arc<dyn Provider>, FieldErrors> {
        let config = ChannelConfig {
            kind: channel.provider,
            carries: channel.carries,
            settings: &channel.settings,
            secrets: &channel.secrets,
        };
        self.build_config(channel.id, &config)
    }

    /// Builds an adapter from a configuration, for the channel `channel_id`: checks a
    /// new channel's settings before it is stored.
    pub fn build_config(
        &self,
        channel_id: ChannelId,
        config: &ChannelConfig<'_>,
    ) -> Result<Arc<dyn Provider>, FieldErrors> {
        leadline_providers::build(
            config,
            ProviderContext {
                http: self.http.clone(),
                webhook_url: self.webhook_url(channel_id),
            },
        )
    }

    /// The cached channel and adapter, loading the channel with `load` on a miss.
    pub async fn get<F, Fut>(
        &self,
        channel_id: ChannelId,
        load: F,
    ) -> Result<Option<(Arc<Channel>, Arc<dyn Provider>)>, ProviderLookupError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Option<Channel>, leadline_store::StoreError>>,
    {
        if let Some(hit) = self.cache.get(&channel_id) {
            return Ok(Some(hit));
        }
        let Some(channel) = load().await.map_err(ProviderLookupError::Store)? else {
            return Ok(None);
        };
        let provider = self
            .build(&channel)
            .map_err(ProviderLookupError::Misconfigured)?;
        let entry = (Arc::new(channel), provider);
        self.cache.insert(channel_id, entry.clone());
        Ok(Some(entry))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderLookupError {
    #[error(transparent)]
    Store(leadline_store::StoreError),
    #[error("the channel's provider settings are incomplete: {0:?}")]
    Misconfigured(FieldErrors),
}
