-- CreateTable
CREATE TABLE "PerAppPolicy" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "rules" TEXT NOT NULL DEFAULT '[]',
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "GroupPolicy" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "perapp" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "TunnelGroup" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "defaultGroupPolicy" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "DapRecord" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "priority" INTEGER NOT NULL DEFAULT 0,
    "action" TEXT NOT NULL DEFAULT 'continue',
    "aaaMode" TEXT NOT NULL DEFAULT 'ANY',
    "aaaCriteria" TEXT NOT NULL DEFAULT '[]',
    "endpointCriteria" TEXT NOT NULL DEFAULT '[]',
    "perapp" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "HeadEndSettings" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "dapOrder" TEXT NOT NULL DEFAULT 'asa',
    "perappAttrDescription" TEXT NOT NULL DEFAULT 'Per-App Allow'
);

-- CreateIndex
CREATE UNIQUE INDEX "PerAppPolicy_name_key" ON "PerAppPolicy"("name");

-- CreateIndex
CREATE UNIQUE INDEX "GroupPolicy_name_key" ON "GroupPolicy"("name");

-- CreateIndex
CREATE UNIQUE INDEX "TunnelGroup_name_key" ON "TunnelGroup"("name");

-- CreateIndex
CREATE UNIQUE INDEX "DapRecord_name_key" ON "DapRecord"("name");
