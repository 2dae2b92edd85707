export * from "./errors";
export * from "./json";
export * from "./origin";
export * from "./validate";
export * from "./route";
