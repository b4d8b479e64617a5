// Inside the partner's iframe: tell the embedding page how tall the content is, so the frame can fit it.
(function () {
  if (window.parent === window) { return; }
  function report() {
    window.parent.postMessage({ ldPathwaysHeight: document.documentElement.scrollHeight }, "*");
  }
  window.addEventListener("load", report);
  if ("ResizeObserver" in window) { new ResizeObserver(report).observe(document.body); }
})();
