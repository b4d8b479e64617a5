// Runs before the page paints: GOV.UK Frontend styles its JavaScript-enhanced components from these classes.
document.body.className += " js-enabled" + ("noModule" in HTMLScriptElement.prototype ? " govuk-frontend-supported" : "");
