/** The initial admin's password in every test app (and the template data directory). */
export const adminPassword = 'test-admin-password-1';
