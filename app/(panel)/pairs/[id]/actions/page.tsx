import type { Metadata } from "next";
import { PairActionsPage } from "@/components/overrides/PairActionsPage";

export const metadata: Metadata = { title: "Act by hand" };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <PairActionsPage id={id} />;
}
