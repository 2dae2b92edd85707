-- CreateTable
CREATE TABLE "LoginThrottle" (
    "ip" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "windowStart" TIMESTAMPTZ(3) NOT NULL,
    "windowEnd" TIMESTAMPTZ(3) NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "failures" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "LoginThrottle_pkey" PRIMARY KEY ("ip","username","windowStart")
);

-- CreateIndex
CREATE INDEX "LoginThrottle_windowEnd_idx" ON "LoginThrottle"("windowEnd");
