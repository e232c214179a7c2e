// Served by the gateway at /api/docs/swagger-initializer.js in place of the one swagger-ui-dist ships:
// one drop-down entry per service, each the OpenAPI document that service publishes through the gateway.
window.onload = function () {
  window.ui = SwaggerUIBundle({
    urls: [
      { name: "identity — accounts and tokens", url: "/api/v1/schema/identity/" },
      { name: "product — catalog and stock", url: "/api/v1/schema/product/" },
      { name: "order — orders and their saga", url: "/api/v1/schema/order/" },
      { name: "email — the email ledger", url: "/api/v1/schema/email/" },
    ],
    "urls.primaryName": "identity — accounts and tokens",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: "StandaloneLayout",
  });
};
