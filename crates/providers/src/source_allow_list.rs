//! A channel's optional allow-list of webhook sources (`settings.allowedSources`: IP
//! addresses and CIDR blocks), checked against the TCP peer of each webhook call.
//!
//! It checks the peer the server saw, never `X-Forwarded-For` (which any caller can
//! write): behind a reverse proxy the peer is the proxy, so list the proxy there, or
//! leave the list out and rely on the signature alone.

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

use crate::Settings;

/// The addresses a channel accepts webhook calls from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceAllowList(Vec<IpNet>);

impl SourceAllowList {
    /// Reads `settings.allowedSources`; `None` when absent (every source may call).
    /// Each entry that is not an address or block is a field error naming its index.
    pub(crate) fn from_settings(settings: &Settings<'_>, raw: Option<&Value>) -> Option<Self> {
        let field = "settings.allowedSources";
        let entries = match raw {
            None | Some(Value::Null) => return None,
            Some(Value::Array(entries)) if !entries.is_empty() => entries,
            Some(Value::Array(_)) => {
                settings.fail(
                    field.into(),
                    "must list at least one address or CIDR block, or be left out",
                );
                return None;
            }
            Some(_) => {
                settings.fail(
                    field.into(),
                    "must be an array of IP addresses or CIDR blocks, e.g. [\"10.0.0.5\", \"192.168.0.0/24\"]",
                );
                return None;
            }
        };
        let mut blocks = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            match entry.as_str().and_then(parse_block) {
                Some(block) => blocks.push(block),
                None => settings.fail(
                    format!("{field}[{i}]"),
                    "must be an IP address or a CIDR block such as 10.0.0.0/8 or 2001:db8::/32",
                ),
            }
        }
        Some(Self(blocks))
    }

    /// Whether `peer` may call. An IPv4 peer seen as an IPv4-mapped IPv6 address
    /// (`::ffff:10.0.0.5`, from a dual-stack listener) is judged as the IPv4 address.
    pub fn allows(&self, peer: IpAddr) -> bool {
        let peer = peer.to_canonical();
        self.0.iter().any(|block| block.contains(&peer))
    }
}

fn parse_block(text: &str) -> Option<IpNet> {
    let text = text.trim();
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
        .map(|block| block.trunc())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn read(value: Value) -> Result<Option<SourceAllowList>, Vec<String>> {
        let settings_map = Map::new();
        let secrets = Map::new();
        let settings = Settings::new(&settings_map, &secrets);
        let list = SourceAllowList::from_settings(&settings, Some(&value));
        settings
            .finish(list)
            .map_err(|errors| errors.as_slice().iter().map(|e| e.field.clone()).collect())
    }

    #[test]
    fn addresses_and_blocks_of_both_families() {
        let list = read(json!(["10.0.0.5", "192.168.1.0/24", "2001:db8::/32"]))
            .unwrap()
            .unwrap();
        for allowed in ["10.0.0.5", "192.168.1.77", "2001:db8::1", "::ffff:10.0.0.5"] {
            assert!(list.allows(allowed.parse().unwrap()), "{allowed}");
        }
        for refused in ["10.0.0.6", "192.168.2.1", "2001:db9::1", "127.0.0.1"] {
            assert!(!list.allows(refused.parse().unwrap()), "{refused}");
        }
    }

    #[test]
    fn bad_entries_are_named_by_index() {
        assert_eq!(
            read(json!(["10.0.0.1", "ten", 7, "10.0.0.0/33"])).unwrap_err(),
            [
                "settings.allowedSources[1]",
                "settings.allowedSources[2]",
                "settings.allowedSources[3]"
            ]
        );
        assert_eq!(read(json!([])).unwrap_err(), ["settings.allowedSources"]);
        assert_eq!(
            read(json!("10.0.0.1")).unwrap_err(),
            ["settings.allowedSources"]
        );
        assert_eq!(read(Value::Null).unwrap(), None);
    }
}
