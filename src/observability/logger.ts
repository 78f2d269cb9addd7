import { redact } from "./redact";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  log(level: LogLevel, event: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Structured JSON lines (Workers Logs indexes them), every field redacted on the way out. */
export function createLogger(base: LogFields = {}): Logger {
  return {
    log(level, event, fields = {}) {
      const line = JSON.stringify(redact({ level, event, ...base, ...fields }));
      if (level === "error") console.error(line);
      else if (level === "warn") console.warn(line);
      else console.log(line);
    },
    child(fields) {
      return createLogger({ ...base, ...fields });
    },
  };
}
