// Types for manifest-lib.mjs (the scripts are plain JavaScript; the tests are TypeScript).

export declare const ICON_SIZES: Readonly<{ color: number; outline: number }>;
export declare const SCHEMA_FILES: Readonly<Record<string, string>>;

export declare function isGuid(value: unknown): value is string;

export type PackageValues = {
  MicrosoftAppId: string;
  PUBLIC_HOST: string;
};

export declare function resolveSettings(
  env: Readonly<Record<string, string | undefined>>,
  dotenv?: Readonly<Record<string, string | undefined>>,
): { ok: true; values: PackageValues } | { ok: false; problems: string[] };

export declare function findPlaceholders(text: string): string[];

export declare function fillPlaceholders(template: string, values: Readonly<Record<string, string>>): string;

export declare function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined;

export declare function checkFilledManifest(text: string, files: Readonly<Record<string, Uint8Array>>): string[];

export declare function createManifestValidator(schema: object): Promise<(manifest: unknown) => string[]>;

export declare function buildZip(entries: ReadonlyArray<{ name: string; data: Uint8Array }>): Uint8Array;
