"""The API's edge: what every request meets before and around its endpoint (errors, headers, CORS, the
Host and token checks, connections, limits, query parameters, conditional and compressed answers)."""
