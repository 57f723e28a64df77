-- RedefineTables
PRAGMA defer_foreign_keys=ON;
PRAGMA foreign_keys=OFF;
CREATE TABLE "new_HeadEndSettings" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "dapOrder" TEXT NOT NULL DEFAULT 'asa',
    "perappAttrDescription" TEXT NOT NULL DEFAULT 'Per-App Allow',
    "trustpoints" TEXT NOT NULL DEFAULT '[]'
);
INSERT INTO "new_HeadEndSettings" ("dapOrder", "id", "perappAttrDescription") SELECT "dapOrder", "id", "perappAttrDescription" FROM "HeadEndSettings";
DROP TABLE "HeadEndSettings";
ALTER TABLE "new_HeadEndSettings" RENAME TO "HeadEndSettings";
CREATE TABLE "new_TunnelGroup" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "defaultGroupPolicy" TEXT,
    "authentication" TEXT NOT NULL DEFAULT 'aaa',
    "usernameFromCertificate" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);
INSERT INTO "new_TunnelGroup" ("createdAt", "defaultGroupPolicy", "id", "name", "updatedAt") SELECT "createdAt", "defaultGroupPolicy", "id", "name", "updatedAt" FROM "TunnelGroup";
DROP TABLE "TunnelGroup";
ALTER TABLE "new_TunnelGroup" RENAME TO "TunnelGroup";
CREATE UNIQUE INDEX "TunnelGroup_name_key" ON "TunnelGroup"("name");
PRAGMA foreign_keys=ON;
PRAGMA defer_foreign_keys=OFF;
