-- CreateIndex
CREATE INDEX "AuditEvent_action_at_idx" ON "AuditEvent"("action", "at");

-- CreateIndex
CREATE INDEX "AuditEvent_actor_at_idx" ON "AuditEvent"("actor", "at");

-- CreateIndex
CREATE INDEX "AuditEvent_objectType_at_idx" ON "AuditEvent"("objectType", "at");

-- CreateIndex
CREATE INDEX "AuditEvent_objectId_at_idx" ON "AuditEvent"("objectId", "at");
