export * from "./roles";
export * from "./cookies";
export * from "./tokens";
export * from "./password";
export * from "./config";
export * from "./rateLimit";
export * from "./session";
export * from "./principal";
