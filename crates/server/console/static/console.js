// leadline console: the little the pages need beyond HTML forms.
// - live updates: pages that declare data-live-types get the console's event stream
//   and re-fetch their live regions ([data-live-region]) when a matching event comes;
// - fetch() with the session's CSRF token, for scripts that post.
"use strict";

const Console = {
  csrf: document.body ? document.body.dataset.csrf : "",

  post(url, fields) {
    const body = new URLSearchParams(fields || {});
    return fetch(url, {
      method: "POST",
      headers: { "x-csrf-token": Console.csrf, "content-type": "application/x-www-form-urlencoded" },
      body,
      credentials: "same-origin",
    });
  },

  announce(text) {
    const status = document.getElementById("live-status");
    if (status) status.textContent = text;
  },

  // Replaces every live region of the page with the same region of a fresh copy.
  async refresh() {
    const response = await fetch(window.location.href, { credentials: "same-origin" });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const region of document.querySelectorAll("[data-live-region]")) {
      const replacement = fresh.querySelector(`[data-live-region="${region.dataset.liveRegion}"]`);
      if (replacement) region.replaceWith(replacement);
    }
    document.dispatchEvent(new CustomEvent("console:refreshed"));
  },

  listen() {
    const page = document.querySelector("[data-live-types]");
    if (!page || !window.EventSource) return;
    const types = page.dataset.liveTypes;
    const stream = new EventSource(`/console/events?types=${encodeURIComponent(types)}`);
    // The stream's state on the page (data-live="open" once events flow), for styles
    // and tests.
    page.dataset.live = "connecting";
    stream.onopen = () => { page.dataset.live = "open"; };
    stream.onerror = () => { page.dataset.live = "reconnecting"; };
    let pending = null;
    stream.onmessage = (message) => {
      let event = null;
      try { event = JSON.parse(message.data); } catch (_) { return; }
      document.dispatchEvent(new CustomEvent("console:event", { detail: event }));
      // Several events in a burst cost one refresh.
      if (!pending) pending = setTimeout(() => { pending = null; Console.refresh(); }, 50);
    };
  },
};

document.addEventListener("DOMContentLoaded", () => Console.listen());
