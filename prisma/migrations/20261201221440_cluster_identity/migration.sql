-- AlterEnum
ALTER TYPE "AlarmKind" ADD VALUE 'agent_refused';

-- AlterTable
ALTER TABLE "ControllerLease" ADD COLUMN     "clusterId" UUID NOT NULL DEFAULT gen_random_uuid();
