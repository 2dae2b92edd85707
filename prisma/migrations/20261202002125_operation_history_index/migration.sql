-- CreateIndex
CREATE INDEX "Operation_createdAt_id_idx" ON "Operation"("createdAt", "id");
