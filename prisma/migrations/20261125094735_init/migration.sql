-- CreateTable
CREATE TABLE "AdminUser" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "username" TEXT NOT NULL,
    "passwordHash" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "User" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "userId" TEXT NOT NULL,
    "email" TEXT,
    "displayName" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

-- CreateTable
CREATE TABLE "Device" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "uuid" TEXT NOT NULL,
    "adminDeviceSpaceId" INTEGER NOT NULL DEFAULT 1,
    "platform" TEXT NOT NULL,
    "osVersion" TEXT,
    "model" TEXT,
    "manufacturer" TEXT,
    "deviceName" TEXT,
    "serialNumber" TEXT,
    "udid" TEXT,
    "imei" TEXT,
    "owner" TEXT NOT NULL DEFAULT 'COMPANY',
    "status" TEXT NOT NULL DEFAULT 'VERIFICATION_PENDING',
    "compliant" BOOLEAN NOT NULL DEFAULT true,
    "quarantined" BOOLEAN NOT NULL DEFAULT false,
    "customAttributes" TEXT NOT NULL DEFAULT '{}',
    "userRef" INTEGER,
    "registeredAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastConnectedAt" DATETIME,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "Device_userRef_fkey" FOREIGN KEY ("userRef") REFERENCES "User" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "Label" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "nameKey" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "isStatic" BOOLEAN NOT NULL,
    "isSystem" BOOLEAN NOT NULL DEFAULT false,
    "criteria" TEXT,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "DeviceLabel" (
    "deviceId" INTEGER NOT NULL,
    "labelId" INTEGER NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("deviceId", "labelId"),
    CONSTRAINT "DeviceLabel_deviceId_fkey" FOREIGN KEY ("deviceId") REFERENCES "Device" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "DeviceLabel_labelId_fkey" FOREIGN KEY ("labelId") REFERENCES "Label" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "VpnConfiguration" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "nameKey" TEXT NOT NULL,
    "description" TEXT NOT NULL DEFAULT '',
    "connectionType" TEXT NOT NULL,
    "providerBundleId" TEXT,
    "server" TEXT NOT NULL,
    "group" TEXT,
    "perApp" BOOLEAN NOT NULL DEFAULT true,
    "onDemandMatchAppEnabled" BOOLEAN NOT NULL DEFAULT true,
    "safariDomains" TEXT NOT NULL DEFAULT '[]',
    "associatedDomains" TEXT NOT NULL DEFAULT '[]',
    "excludedDomains" TEXT NOT NULL DEFAULT '[]',
    "smbDomains" TEXT NOT NULL DEFAULT '[]',
    "mailDomains" TEXT NOT NULL DEFAULT '[]',
    "calendarDomains" TEXT NOT NULL DEFAULT '[]',
    "contactsDomains" TEXT NOT NULL DEFAULT '[]',
    "userAuthentication" TEXT NOT NULL DEFAULT 'PASSWORD',
    "username" TEXT,
    "password" TEXT,
    "providerType" TEXT,
    "customData" TEXT NOT NULL DEFAULT '{}',
    "vpnUuid" TEXT NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL
);

-- CreateTable
CREATE TABLE "VpnConfigurationLabel" (
    "vpnConfigId" INTEGER NOT NULL,
    "labelId" INTEGER NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("vpnConfigId", "labelId"),
    CONSTRAINT "VpnConfigurationLabel_vpnConfigId_fkey" FOREIGN KEY ("vpnConfigId") REFERENCES "VpnConfiguration" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "VpnConfigurationLabel_labelId_fkey" FOREIGN KEY ("labelId") REFERENCES "Label" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "App" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "name" TEXT NOT NULL,
    "bundleId" TEXT NOT NULL,
    "platform" TEXT NOT NULL,
    "version" TEXT,
    "iTunesStoreId" TEXT,
    "perAppVpnConfigId" INTEGER,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" DATETIME NOT NULL,
    CONSTRAINT "App_perAppVpnConfigId_fkey" FOREIGN KEY ("perAppVpnConfigId") REFERENCES "VpnConfiguration" ("id") ON DELETE RESTRICT ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AppLabel" (
    "appId" INTEGER NOT NULL,
    "labelId" INTEGER NOT NULL,
    "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,

    PRIMARY KEY ("appId", "labelId"),
    CONSTRAINT "AppLabel_appId_fkey" FOREIGN KEY ("appId") REFERENCES "App" ("id") ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT "AppLabel_labelId_fkey" FOREIGN KEY ("labelId") REFERENCES "Label" ("id") ON DELETE CASCADE ON UPDATE CASCADE
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    "at" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actor" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "objectType" TEXT NOT NULL,
    "objectId" TEXT,
    "details" TEXT NOT NULL DEFAULT '{}'
);

-- CreateIndex
CREATE UNIQUE INDEX "AdminUser_username_key" ON "AdminUser"("username");

-- CreateIndex
CREATE UNIQUE INDEX "User_userId_key" ON "User"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Device_uuid_key" ON "Device"("uuid");

-- CreateIndex
CREATE UNIQUE INDEX "Device_udid_key" ON "Device"("udid");

-- CreateIndex
CREATE INDEX "Device_userRef_idx" ON "Device"("userRef");

-- CreateIndex
CREATE UNIQUE INDEX "Label_nameKey_key" ON "Label"("nameKey");

-- CreateIndex
CREATE INDEX "DeviceLabel_labelId_idx" ON "DeviceLabel"("labelId");

-- CreateIndex
CREATE UNIQUE INDEX "VpnConfiguration_nameKey_key" ON "VpnConfiguration"("nameKey");

-- CreateIndex
CREATE UNIQUE INDEX "VpnConfiguration_vpnUuid_key" ON "VpnConfiguration"("vpnUuid");

-- CreateIndex
CREATE INDEX "VpnConfigurationLabel_labelId_idx" ON "VpnConfigurationLabel"("labelId");

-- CreateIndex
CREATE INDEX "App_perAppVpnConfigId_idx" ON "App"("perAppVpnConfigId");

-- CreateIndex
CREATE UNIQUE INDEX "App_platform_bundleId_key" ON "App"("platform", "bundleId");

-- CreateIndex
CREATE INDEX "AppLabel_labelId_idx" ON "AppLabel"("labelId");

-- CreateIndex
CREATE INDEX "AuditEvent_at_idx" ON "AuditEvent"("at");
