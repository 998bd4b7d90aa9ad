/* Sluice widgets loader: turns each
 *   <div data-sluice-widget="stats" data-key="ek_…"></div>
 * into a frame of that widget, sized to its content. Optional attributes: data-theme="dark",
 * data-accent="0f766e", data-compact="1". No framework, no cookies, nothing else on the page
 * is touched. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? new URL(script.src, document.baseURI).origin : "";
  var widgets = { stats: "Delivery", messages: "Recent messages", send: "Send a test message" };
  var frames = [];

  function mount(element) {
    if (element.getAttribute("data-sluice-mounted")) return;
    var widget = element.getAttribute("data-sluice-widget");
    var key = element.getAttribute("data-key");
    if (!widgets[widget] || !key) return;
    var query = new URLSearchParams({ key: key });
    ["theme", "accent", "compact"].forEach(function (name) {
      var value = element.getAttribute("data-" + name);
      if (value) query.set(name, value);
    });
    var frame = document.createElement("iframe");
    frame.src = base + "/embed/" + widget + "?" + query.toString();
    frame.title = element.getAttribute("data-title") || widgets[widget];
    frame.loading = "lazy";
    frame.style.border = "0";
    frame.style.width = "100%";
    frame.style.height = "160px";
    frame.style.colorScheme = "normal";
    element.setAttribute("data-sluice-mounted", "1");
    element.appendChild(frame);
    frames.push(frame);
  }

  function mountAll() {
    var found = document.querySelectorAll("[data-sluice-widget]");
    for (var i = 0; i < found.length; i++) mount(found[i]);
  }

  // A widget says how tall it is; only its own frame, from Sluice's origin, is resized.
  window.addEventListener("message", function (event) {
    if (event.origin !== base || typeof event.data !== "string") return;
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (!message || message.sluice !== "resize" || typeof message.height !== "number") return;
    for (var i = 0; i < frames.length; i++) {
      if (frames[i].contentWindow === event.source) {
        frames[i].style.height = Math.max(40, Math.min(message.height, 5000)) + "px";
      }
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mountAll);
  } else {
    mountAll();
  }
  window.SluiceWidgets = { mount: mountAll };
})();
