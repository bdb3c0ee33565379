"""The static pages people see: the consumer's QR page, the lot page, the regulator
console and the restaurant's kitchen pages (hand-written HTML, CSS and JavaScript in
``static/``, served by ``api.routers.pages``; no build step, no CDN)."""
