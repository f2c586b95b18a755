// Catalogue ids without a case file yet, with the precise reason they are reported `skipped`.
export const PENDING_CASES: Record<string, string> = {
};
