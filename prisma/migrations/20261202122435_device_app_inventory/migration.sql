-- CreateTable
CREATE TABLE "DeviceApp" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "deviceRef" INTEGER NOT NULL,
    "name" TEXT NOT NULL DEFAULT '',
    "nameKey" TEXT NOT NULL DEFAULT '',
    "identifier" TEXT,
    "version" TEXT,
    "shortVersion" TEXT,
    "bundleSize" BIGINT,
    "managed" BOOLEAN,
    "reportedAt" DATETIME NOT NULL,
    CONSTRAINT "DeviceApp_deviceRef_fkey" FOREIGN KEY ("deviceRef") REFERENCES "Device" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateIndex
CREATE INDEX "DeviceApp_deviceRef_idx" ON "DeviceApp"("deviceRef");

-- CreateIndex
CREATE INDEX "DeviceApp_identifier_idx" ON "DeviceApp"("identifier");

-- CreateIndex
CREATE INDEX "DeviceApp_nameKey_idx" ON "DeviceApp"("nameKey");
