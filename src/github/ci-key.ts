// The name on its own: `crvs github sync --help` shows it, and the sync module loads libsodium.

/** The secret CI uses to open the store and to log in to the servers as the automation user. */
export const CI_KEY_SECRET = 'CRVS_CI_KEY';
