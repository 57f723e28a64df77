-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_App" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "bundleId" TEXT NOT NULL,
    "platform" TEXT NOT NULL,
    "version" TEXT,
    "iTunesStoreId" TEXT,
    "perAppVpnConfigId" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    "source" TEXT NOT NULL DEFAULT 'STORE',
    "displayVersion" TEXT,
    "description" TEXT,
    "installerSha256" TEXT,
    "installerSize" INTEGER,
    "icon" BLOB,
    "notifiedAt" DATETIME,
    CONSTRAINT "App_perAppVpnConfigId_fkey" FOREIGN KEY ("perAppVpnConfigId") REFERENCES "VpnConfiguration" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);
INSERT INTO "new_App" ("bundleId", "createdAt", "iTunesStoreId", "id", "name", "perAppVpnConfigId", "platform", "updatedAt", "version") SELECT "bundleId", "createdAt", "iTunesStoreId", "id", "name", "perAppVpnConfigId", "platform", "updatedAt", "version" FROM "App";
DROP TABLE "App";
ALTER TABLE "new_App" RENAME TO "App";
CREATE INDEX "App_perAppVpnConfigId_idx" ON "App"("perAppVpnConfigId");
CREATE UNIQUE INDEX "App_platform_bundleId_key" ON "App"("platform", "bundleId");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
