// Node-only exports of `kindling/node`.
export {};
