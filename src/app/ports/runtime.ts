export interface Clock {
  now(): Date;
}

/** The logging surface the app needs (pino's, narrowed). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
