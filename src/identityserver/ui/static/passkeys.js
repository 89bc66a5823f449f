// Passkeys (WebAuthn L2) for the login and account security pages: the server makes the options and checks
// every response (docs/sign-in.md); this script only converts between JSON and the browser's ArrayBuffers.
(function () {
  "use strict";

  function fromB64url(value) {
    var text = value.replace(/-/g, "+").replace(/_/g, "/");
    while (text.length % 4) text += "=";
    var raw = atob(text), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toB64url(buffer) {
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) { return Object.assign({}, d, { id: fromB64url(d.id) }); });
  }

  function creationOptions(json) {
    var o = JSON.parse(json);
    o.challenge = fromB64url(o.challenge);
    o.user.id = fromB64url(o.user.id);
    o.excludeCredentials = descriptors(o.excludeCredentials);
    return o;
  }

  function requestOptions(json) {
    var o = JSON.parse(json);
    o.challenge = fromB64url(o.challenge);
    o.allowCredentials = descriptors(o.allowCredentials);
    return o;
  }

  function credentialJson(credential) {
    var r = credential.response, response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      if (r.userHandle) response.userHandle = toB64url(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toB64url(credential.rawId),
      type: credential.type,
      response: response,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    });
  }

  function post(url, fields) {
    var body = new URLSearchParams(fields);
    return fetch(url, { method: "POST", body: body, credentials: "same-origin" }).then(function (res) {
      return res.json().then(function (data) {
        if (!res.ok) throw new Error(data.error_description || "The passkey was refused.");
        return data;
      });
    });
  }

  function showError(node, message) {
    if (!node) return;
    node.textContent = message;
    node.hidden = false;
  }

  // -- login page: a button, and autofill (conditional mediation) on the username field ----------------------
  var login = document.getElementById("passkey-login");
  if (login && window.PublicKeyCredential) {
    var token = login.querySelector("[name=__RequestVerificationToken]").value;
    var returnUrl = login.querySelector("[name=returnUrl]").value;
    var errorNode = login.querySelector(".error");
    var pending = null;

    var signIn = function (mediation) {
      if (pending) pending.abort();
      var controller = new AbortController();
      pending = controller;
      return post(login.dataset.options, { __RequestVerificationToken: token })
        .then(function (ceremony) {
          var request = { publicKey: requestOptions(ceremony.options), signal: controller.signal };
          if (mediation) request.mediation = mediation;
          return navigator.credentials.get(request).then(function (credential) {
            return post(login.dataset.signIn, {
              __RequestVerificationToken: token,
              returnUrl: returnUrl,
              state: ceremony.state,
              response: credentialJson(credential),
            });
          });
        })
        .then(function (result) { window.location.assign(result.redirect); })
        .catch(function (error) {
          if (error && error.name === "AbortError") return;
          showError(errorNode, error && error.message ? error.message : "Passkey sign-in failed.");
        });
    };

    login.addEventListener("submit", function (event) {
      event.preventDefault();
      signIn(null);
    });
    if (PublicKeyCredential.isConditionalMediationAvailable) {
      PublicKeyCredential.isConditionalMediationAvailable().then(function (available) {
        if (available) signIn("conditional");
      });
    }
  }

  // -- account security page: register a passkey --------------------------------------------------------------
  var register = document.getElementById("passkey-register");
  if (register) {
    register.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = register.querySelector("[name=__RequestVerificationToken]").value;
      var name = register.querySelector("[name=name]").value;
      var errorNode = register.querySelector(".error");
      if (!window.PublicKeyCredential) {
        showError(errorNode, "This browser does not support passkeys.");
        return;
      }
      post(register.dataset.options, { __RequestVerificationToken: token })
        .then(function (ceremony) {
          return navigator.credentials.create({ publicKey: creationOptions(ceremony.options) }).then(function (c) {
            return post(register.dataset.register, {
              __RequestVerificationToken: token,
              state: ceremony.state,
              response: credentialJson(c),
              name: name,
            });
          });
        })
        .then(function () { window.location.reload(); })
        .catch(function (error) { showError(errorNode, error && error.message ? error.message : "Failed."); });
    });
  }
})();
