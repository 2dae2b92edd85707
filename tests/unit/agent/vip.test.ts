import { describe, expect, test } from "vitest";
import { ADDRESS_ABSENT } from "../../../agent/vip/linux";

describe("ip addr del of an absent address is recognised (idempotent disable)", () => {
  test.each([
    ["iproute2 < 5 (RTNETLINK)", "RTNETLINK answers: Cannot assign requested address\n"],
    ["iproute2 6.1, Debian 12, IPv4", "Error: ipv4: Address not found.\n"],
    ["iproute2 6.1, Debian 12, IPv6", "Error: ipv6: address not found.\n"],
  ])("%s", (_name, stderr) => {
    expect(ADDRESS_ABSENT.test(stderr)).toBe(true);
  });

  test("other failures are not mistaken for an absent address", () => {
    expect(ADDRESS_ABSENT.test('Cannot find device "eth9"\n')).toBe(false);
    expect(ADDRESS_ABSENT.test("RTNETLINK answers: Operation not permitted\n")).toBe(false);
  });
});
