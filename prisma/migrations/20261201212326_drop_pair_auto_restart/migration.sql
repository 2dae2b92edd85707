-- AlterTable
ALTER TABLE "Pair" DROP COLUMN "autoRestart";
