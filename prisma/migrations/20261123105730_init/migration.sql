-- CreateEnum
CREATE TYPE "subscription_tier" AS ENUM ('free', 'plus', 'pro');

-- CreateEnum
CREATE TYPE "subscription_status" AS ENUM ('active', 'trialing', 'past_due', 'canceled');

-- CreateEnum
CREATE TYPE "difficulty" AS ENUM ('easy', 'medium', 'hard', 'expert');

-- CreateTable
CREATE TABLE "users" (
    "id" SERIAL NOT NULL,
    "email" TEXT NOT NULL,
    "username" TEXT NOT NULL,
    "subscription_tier" "subscription_tier" NOT NULL DEFAULT 'free',
    "subscription_status" "subscription_status" NOT NULL DEFAULT 'active',
    "subscription_renews_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "users_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "daily_puzzles" (
    "id" SERIAL NOT NULL,
    "puzzle_date" DATE NOT NULL,
    "variant" TEXT NOT NULL,
    "difficulty" "difficulty" NOT NULL,
    "puzzle" JSONB NOT NULL,
    "solution" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "daily_puzzles_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "puzzle_completions" (
    "id" SERIAL NOT NULL,
    "user_id" INTEGER NOT NULL,
    "puzzle_id" INTEGER NOT NULL,
    "seconds_taken" INTEGER NOT NULL,
    "completed_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "puzzle_completions_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "users_email_key" ON "users"("email");

-- CreateIndex
CREATE UNIQUE INDEX "users_username_key" ON "users"("username");

-- CreateIndex
CREATE UNIQUE INDEX "daily_puzzles_puzzle_date_variant_difficulty_key" ON "daily_puzzles"("puzzle_date", "variant", "difficulty");

-- CreateIndex
CREATE INDEX "puzzle_completions_puzzle_id_idx" ON "puzzle_completions"("puzzle_id");

-- CreateIndex
CREATE UNIQUE INDEX "puzzle_completions_user_id_puzzle_id_key" ON "puzzle_completions"("user_id", "puzzle_id");

-- AddForeignKey
ALTER TABLE "puzzle_completions" ADD CONSTRAINT "puzzle_completions_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "puzzle_completions" ADD CONSTRAINT "puzzle_completions_puzzle_id_fkey" FOREIGN KEY ("puzzle_id") REFERENCES "daily_puzzles"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
