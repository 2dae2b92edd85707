-- AlterTable
ALTER TABLE "Alarm" ADD COLUMN     "acknowledgeComment" TEXT;

-- CreateIndex
CREATE INDEX "Alarm_raisedAt_idx" ON "Alarm"("raisedAt");
