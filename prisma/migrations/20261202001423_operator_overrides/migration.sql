-- AlterEnum
-- This migration adds more than one value to an enum.
-- With PostgreSQL versions 11 and earlier, this is not possible
-- in a single migration. This can be worked around by creating
-- multiple migrations, each migration adding only one value to
-- the enum.


ALTER TYPE "OperationKind" ADD VALUE 'promote';
ALTER TYPE "OperationKind" ADD VALUE 'app_start';
ALTER TYPE "OperationKind" ADD VALUE 'app_stop';
ALTER TYPE "OperationKind" ADD VALUE 'app_restart';
ALTER TYPE "OperationKind" ADD VALUE 'clear_holddown';

-- AlterTable
ALTER TABLE "Operation" ADD COLUMN     "params" JSONB NOT NULL DEFAULT '{}';
