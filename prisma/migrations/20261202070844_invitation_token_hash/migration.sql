-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_EnrollmentInvitation" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "tokenHash" TEXT,
    "token" TEXT,
    "challengeHash" TEXT NOT NULL,
    "userRef" INTEGER,
    "deviceRef" INTEGER,
    "identityKind" TEXT NOT NULL DEFAULT 'scep',
    "expiresAt" DATETIME NOT NULL,
    "usedAt" DATETIME,
    "createdBy" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "EnrollmentInvitation_userRef_fkey" FOREIGN KEY ("userRef") REFERENCES "User" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "EnrollmentInvitation_deviceRef_fkey" FOREIGN KEY ("deviceRef") REFERENCES "Device" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);
INSERT INTO "new_EnrollmentInvitation" ("challengeHash", "createdAt", "createdBy", "deviceRef", "expiresAt", "id", "identityKind", "token", "usedAt", "userRef") SELECT "challengeHash", "createdAt", "createdBy", "deviceRef", "expiresAt", "id", "identityKind", "token", "usedAt", "userRef" FROM "EnrollmentInvitation";
DROP TABLE "EnrollmentInvitation";
ALTER TABLE "new_EnrollmentInvitation" RENAME TO "EnrollmentInvitation";
CREATE UNIQUE INDEX "EnrollmentInvitation_tokenHash_key" ON "EnrollmentInvitation"("tokenHash");
CREATE UNIQUE INDEX "EnrollmentInvitation_token_key" ON "EnrollmentInvitation"("token");
CREATE INDEX "EnrollmentInvitation_userRef_idx" ON "EnrollmentInvitation"("userRef");
CREATE INDEX "EnrollmentInvitation_deviceRef_idx" ON "EnrollmentInvitation"("deviceRef");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
