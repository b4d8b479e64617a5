// Progressive enhancement only: every page works without this file.
import { initAll } from "/govuk/govuk-frontend.min.js";

initAll();

for (const element of document.querySelectorAll(".app-js-only")) {
  element.hidden = false;
}

// Type-ahead over the site list: filter the options as the officer types. (Without JavaScript the select
// itself still jumps to a site as its name is typed.)
const filter = document.getElementById("site-filter");
const select = document.getElementById("site");
if (filter && select) {
  const options = Array.from(select.options);
  filter.addEventListener("input", () => {
    const text = filter.value.trim().toLowerCase();
    let first = null;
    for (const option of options) {
      const match = !option.value || option.text.toLowerCase().includes(text);
      option.hidden = !match;
      if (match && option.value && !first) first = option;
    }
    if (text && first) select.value = first.value;
  });
}

// "Use my location": fills the hidden lat and lon fields and clears the other origins.
const locate = document.getElementById("use-location");
const status = document.getElementById("location-status");
if (locate) {
  if (!("geolocation" in navigator)) {
    locate.parentElement.hidden = true;
  }
  locate.addEventListener("click", () => {
    status.textContent = "Finding your location…";
    navigator.geolocation.getCurrentPosition(
      (position) => {
        document.getElementById("lat").value = position.coords.latitude.toFixed(5);
        document.getElementById("lon").value = position.coords.longitude.toFixed(5);
        document.getElementById("postcode").value = "";
        if (select) select.value = "";
        status.textContent = "Location found. Choose Find referral options.";
      },
      () => { status.textContent = "Your location could not be found. Choose a site or give a postcode."; },
      { timeout: 10000 },
    );
  });
}

const print = document.getElementById("print");
if (print) print.addEventListener("click", () => window.print());

// After a search, the answer comes first: move focus to its heading, so a screen reader starts there too. The
// "Change" link opens the search form below it.
const results = document.getElementById("threshold-title") || document.getElementById("results-title");
if (results && !document.querySelector(".govuk-error-summary")) results.focus({ preventScroll: false });
const change = document.getElementById("change-link");
const details = document.getElementById("change");
if (change && details) change.addEventListener("click", () => { details.open = true; });
