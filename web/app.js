// The demo shop page: loads the widget, and signs the buyer in through the site's session.
(function () {
  "use strict";
  var token = window.sessionStorage.getItem("demo.customerToken");
  var account = document.querySelector("[data-testid=account]");
  var signIn = document.getElementById("sign-in");

  function showAccount() {
    account.textContent = token ? "Signed in as Alex Buyer" : "Not signed in";
    signIn.hidden = !!token;
  }

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
      window.OrderAssistant.init({ rasaUrl: config.rasaUrl, getToken: function () { return token; } });
    });
  showAccount();
})();
