// The demo shop page: loads the widget, and signs the buyer in through the site's session.
(function () {
  "use strict";
  var token = window.sessionStorage.getItem("demo.customerToken");
  var account = document.querySelector("[data-testid=account]");
  var signIn = document.getElementById("sign-in");
  var signOut = document.getElementById("sign-out");
  var widget = null;

  function showAccount() {
    account.textContent = token ? "Signed in as Alex Buyer" : "Not signed in";
    signIn.hidden = !!token;
    signOut.hidden = !token;
  }

  // Signing out ends the chat too: nothing the signed-in buyer saw stays on the page.
  signOut.addEventListener("click", function () {
    token = null;
    window.sessionStorage.removeItem("demo.customerToken");
    if (widget) widget.endChat();
    showAccount();
  });

  signIn.addEventListener("click", function () {
    fetch("api/session", { method: "POST" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (body) {
        token = body.customer_token;
        window.sessionStorage.setItem("demo.customerToken", token);
        showAccount();
      })
      .catch(function () { account.textContent = "Sign-in is not enabled on this server"; });
  });

  fetch("config.json")
    .then(function (response) { return response.json(); })
    .then(function (config) {
      widget = window.OrderAssistant.init({ rasaUrl: config.rasaUrl, getToken: function () { return token; } });
    });
  showAccount();
})();
