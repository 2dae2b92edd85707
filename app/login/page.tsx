import type { Metadata } from "next";
import { LoginForm } from "@/components/LoginForm";
import { safeNextPath } from "@/lib/validation/return-path";

export const metadata: Metadata = { title: "Sign in" };

export default async function LoginPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  return <LoginForm next={safeNextPath(sp.next)} />;
}
