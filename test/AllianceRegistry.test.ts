import { expect } from "chai";
import { id, ZeroAddress, ZeroHash } from "ethers";
import { MEMBER_STATUS_NAMES, MemberStatus } from "../src/client/index.js";
import { DAY, deployAllianceFixture, loadFixture, pinNextBlock, time, type AllianceFixture } from "./fixtures.js";

const PLATFORM = 1;
const AUDITOR = 4;

describe("AllianceRegistry", function () {
  /** Every governance-only function, called by each account that is not governance. */
  describe("governance-only functions, from every wrong role", function () {
    const calls: [string, (f: AllianceFixture) => (c: AllianceFixture["alliance"]) => Promise<unknown>][] = [
      ["admitMember", (f) => (c) => c.admitMember(f.outsider, PLATFORM, ZeroHash)],
      ["setMemberRoles", (f) => (c) => c.setMemberRoles(f.platformA, PLATFORM | AUDITOR)],
      ["suspendMember", (f) => (c) => c.suspendMember(f.platformA)],
      ["reinstateMember", (f) => (c) => c.reinstateMember(f.platformA)],
      ["expelMember", (f) => (c) => c.expelMember(f.platformA)],
    ];
    for (const [name, call] of calls) {
      for (const role of ["platformA", "auditor", "lender", "outsider"] as const) {
        it(`${name} reverts for ${role}`, async function () {
          const f = await loadFixture(deployAllianceFixture);
          const caller = f[role];
          await expect(call(f)(f.alliance.connect(caller)))
            .to.be.revertedWithCustomError(f.alliance, "AccessControlUnauthorizedAccount")
            .withArgs(caller.address, await f.alliance.DEFAULT_ADMIN_ROLE());
        });
      }
    }
  });

  describe("admitMember", function () {
    it("admits an active member with its roles and profile hash", async function () {
      const { alliance, outsider } = await loadFixture(deployAllianceFixture);
      await expect(alliance.admitMember(outsider, PLATFORM | AUDITOR, id("profile")))
        .to.emit(alliance, "MemberAdmitted")
        .withArgs(outsider.address, PLATFORM | AUDITOR, id("profile"));
      const member = await alliance.memberOf(outsider);
      expect(member.status).to.equal(MemberStatus.Active);
      expect(member.roles).to.equal(PLATFORM | AUDITOR);
      expect(await alliance.isActiveMember(outsider, PLATFORM)).to.equal(true);
      expect(await alliance.memberAt((await alliance.memberCount()) - 1n)).to.equal(outsider.address);
    });

    it("reverts for the zero address", async function () {
      const { alliance } = await loadFixture(deployAllianceFixture);
      await expect(alliance.admitMember(ZeroAddress, PLATFORM, ZeroHash)).to.be.revertedWithCustomError(
        alliance,
        "AllianceRegistryZeroAddress",
      );
    });

    for (const roles of [0, 32, 255]) {
      it(`reverts for roles mask ${roles}`, async function () {
        const { alliance, outsider } = await loadFixture(deployAllianceFixture);
        await expect(alliance.admitMember(outsider, roles, ZeroHash))
          .to.be.revertedWithCustomError(alliance, "AllianceRegistryInvalidRoles")
          .withArgs(roles);
      });
    }

    it("reverts for an account admitted before, even once expelled", async function () {
      const { alliance, platformA } = await loadFixture(deployAllianceFixture);
      await alliance.expelMember(platformA);
      await expect(alliance.admitMember(platformA, PLATFORM, ZeroHash))
        .to.be.revertedWithCustomError(alliance, "AllianceRegistryMemberExists")
        .withArgs(platformA.address);
    });
  });

  describe("setMemberRoles", function () {
    it("replaces the roles", async function () {
      const { alliance, auditor } = await loadFixture(deployAllianceFixture);
      await expect(alliance.setMemberRoles(auditor, AUDITOR | 2))
        .to.emit(alliance, "MemberRolesChanged")
        .withArgs(auditor.address, AUDITOR | 2);
      expect(await alliance.isActiveMember(auditor, 2)).to.equal(true);
    });

    it("reverts for an unknown account and for an expelled member", async function () {
      const { alliance, outsider, platformA } = await loadFixture(deployAllianceFixture);
      await expect(alliance.setMemberRoles(outsider, PLATFORM))
        .to.be.revertedWithCustomError(alliance, "AllianceRegistryUnknownMember")
        .withArgs(outsider.address);
      await alliance.expelMember(platformA);
      await expect(alliance.setMemberRoles(platformA, PLATFORM))
        .to.be.revertedWithCustomError(alliance, "AllianceRegistryInvalidStatusTransition")
        .withArgs(platformA.address, MemberStatus.Expelled, MemberStatus.Expelled);
    });
  });

  describe("setMemberMetadata", function () {
    it("is allowed to the member itself and to governance", async function () {
      const { alliance, platformA } = await loadFixture(deployAllianceFixture);
      await expect(alliance.connect(platformA).setMemberMetadata(platformA, id("v2")))
        .to.emit(alliance, "MemberMetadataChanged")
        .withArgs(platformA.address, id("v2"));
      await alliance.setMemberMetadata(platformA, id("v3"));
      expect((await alliance.memberOf(platformA)).metadataHash).to.equal(id("v3"));
    });

    for (const role of ["platformB", "auditor", "lender", "outsider"] as const) {
      it(`reverts for ${role}`, async function () {
        const f = await loadFixture(deployAllianceFixture);
        await expect(f.alliance.connect(f[role]).setMemberMetadata(f.platformA, id("forged")))
          .to.be.revertedWithCustomError(f.alliance, "AllianceRegistryUnauthorized")
          .withArgs(f[role].address);
      });
    }
  });

  describe("member status transitions", function () {
    const actions = [
      { name: "suspendMember", from: [MemberStatus.Active], to: MemberStatus.Suspended },
      { name: "reinstateMember", from: [MemberStatus.Suspended], to: MemberStatus.Active },
      { name: "expelMember", from: [MemberStatus.Active, MemberStatus.Suspended], to: MemberStatus.Expelled },
    ] as const;
    /** Puts platform A into `status` by the shortest path. */
    async function platformIn(f: AllianceFixture, status: MemberStatus) {
      if (status === MemberStatus.Suspended) await f.alliance.suspendMember(f.platformA);
      if (status === MemberStatus.Expelled) await f.alliance.expelMember(f.platformA);
    }
    const statuses = [MemberStatus.Active, MemberStatus.Suspended, MemberStatus.Expelled];

    for (const action of actions) {
      for (const status of statuses) {
        const allowed = (action.from as readonly number[]).includes(status);
        it(`${action.name} ${allowed ? "moves" : "reverts for"} a member that is ${MEMBER_STATUS_NAMES[status]}`, async function () {
          const f = await loadFixture(deployAllianceFixture);
          await platformIn(f, status);
          const tx = f.alliance[action.name](f.platformA);
          if (allowed) {
            await expect(tx)
              .to.emit(f.alliance, "MemberStatusChanged")
              .withArgs(f.platformA.address, status, action.to);
            expect((await f.alliance.memberOf(f.platformA)).status).to.equal(action.to);
          } else {
            await expect(tx)
              .to.be.revertedWithCustomError(f.alliance, "AllianceRegistryInvalidStatusTransition")
              .withArgs(f.platformA.address, status, action.to);
          }
        });
      }
      it(`${action.name} reverts for an account that was never admitted`, async function () {
        const f = await loadFixture(deployAllianceFixture);
        await expect(f.alliance[action.name](f.outsider))
          .to.be.revertedWithCustomError(f.alliance, "AllianceRegistryUnknownMember")
          .withArgs(f.outsider.address);
      });
    }

    it("a suspended platform is no longer an active platform", async function () {
      const { alliance, platformA } = await loadFixture(deployAllianceFixture);
      await alliance.suspendMember(platformA);
      expect(await alliance.isActiveMember(platformA, PLATFORM)).to.equal(false);
    });
  });

  describe("allowLender", function () {
    it("allowlists a lender until its KYC expires, vouched for by the platform", async function () {
      const { alliance, platformB, outsider } = await loadFixture(deployAllianceFixture);
      const expiry = (await time.latest()) + 30 * DAY;
      await expect(alliance.connect(platformB).allowLender(outsider, expiry))
        .to.emit(alliance, "LenderAllowed")
        .withArgs(outsider.address, platformB.address, expiry);
      expect(await alliance.isAllowedLender(outsider)).to.equal(true);
      expect((await alliance.lenderOf(outsider)).kycProvider).to.equal(platformB.address);
      await time.increaseTo(expiry);
      expect(await alliance.isAllowedLender(outsider)).to.equal(false);
    });

    for (const role of ["governance", "auditor", "lender", "outsider"] as const) {
      it(`reverts for ${role}, which is not an active platform`, async function () {
        const f = await loadFixture(deployAllianceFixture);
        await expect(f.alliance.connect(f[role]).allowLender(f.outsider, (await time.latest()) + DAY))
          .to.be.revertedWithCustomError(f.alliance, "AllianceRegistryNotActivePlatform")
          .withArgs(f[role].address);
      });
    }

    it("reverts for a suspended platform", async function () {
      const { alliance, platformA, outsider } = await loadFixture(deployAllianceFixture);
      await alliance.suspendMember(platformA);
      await expect(alliance.connect(platformA).allowLender(outsider, (await time.latest()) + DAY))
        .to.be.revertedWithCustomError(alliance, "AllianceRegistryNotActivePlatform")
        .withArgs(platformA.address);
    });

    it("reverts for an expiry that is not in the future, and for the zero address", async function () {
      const { alliance, platformA, outsider } = await loadFixture(deployAllianceFixture);
      // An expiry at the block's own second is not in the future either.
      const at = await pinNextBlock();
      await expect(alliance.connect(platformA).allowLender(outsider, at))
        .to.be.revertedWithCustomError(alliance, "AllianceRegistryKycExpiryInPast")
        .withArgs(at, at);
      await expect(alliance.connect(platformA).allowLender(ZeroAddress, at + DAY)).to.be.revertedWithCustomError(
        alliance,
        "AllianceRegistryZeroAddress",
      );
    });
  });

  describe("a lender's record belongs to the platform that vouched for it", function () {
    it("refuses another platform's re-vouching of an unexpired record, so it cannot shorten or revoke it", async function () {
      const { alliance, platformA, platformB, lender } = await loadFixture(deployAllianceFixture);
      const record = await alliance.lenderOf(lender);
      await expect(alliance.connect(platformB).allowLender(lender, (await time.latest()) + DAY))
        .to.be.revertedWithCustomError(alliance, "AllianceRegistryLenderVouchedByOther")
        .withArgs(lender.address, platformA.address, record.kycExpiry);
      await expect(alliance.connect(platformB).revokeLender(lender))
        .to.be.revertedWithCustomError(alliance, "AllianceRegistryUnauthorized")
        .withArgs(platformB.address);
      expect(await alliance.isAllowedLender(lender)).to.equal(true);
      // Its own platform renews it at will.
      await alliance.connect(platformA).allowLender(lender, record.kycExpiry + 1n);
    });

    it("lets another platform take over an expired record", async function () {
      const { alliance, platformB, lender } = await loadFixture(deployAllianceFixture);
      const { kycExpiry } = await alliance.lenderOf(lender);
      await time.increaseTo(kycExpiry);
      await expect(alliance.connect(platformB).allowLender(lender, Number(kycExpiry) + 30 * DAY))
        .to.emit(alliance, "LenderAllowed")
        .withArgs(lender.address, platformB.address, Number(kycExpiry) + 30 * DAY);
    });

    it("lets another platform take over the records of an expelled platform, which can no longer revoke them", async function () {
      const { alliance, platformA, platformB, lender } = await loadFixture(deployAllianceFixture);
      await alliance.expelMember(platformA);
      await expect(alliance.connect(platformA).revokeLender(lender))
        .to.be.revertedWithCustomError(alliance, "AllianceRegistryUnauthorized")
        .withArgs(platformA.address);
      await alliance.connect(platformB).allowLender(lender, (await time.latest()) + DAY);
      expect((await alliance.lenderOf(lender)).kycProvider).to.equal(platformB.address);
    });

    it("refuses a platform vouching for itself", async function () {
      const { alliance, platformA } = await loadFixture(deployAllianceFixture);
      await expect(alliance.connect(platformA).allowLender(platformA, (await time.latest()) + DAY))
        .to.be.revertedWithCustomError(alliance, "AllianceRegistrySelfVouching")
        .withArgs(platformA.address);
    });

    it("names an expired KYC with its expiry date, apart from an unknown lender", async function () {
      const { alliance, lender, outsider } = await loadFixture(deployAllianceFixture);
      await alliance.requireAllowedLender(lender);
      await expect(alliance.requireAllowedLender(outsider))
        .to.be.revertedWithCustomError(alliance, "AllianceRegistryUnknownLender")
        .withArgs(outsider.address);
      const { kycExpiry } = await alliance.lenderOf(lender);
      await time.increaseTo(kycExpiry);
      await expect(alliance.requireAllowedLender(lender))
        .to.be.revertedWithCustomError(alliance, "AllianceRegistryLenderKycExpired")
        .withArgs(lender.address, kycExpiry, kycExpiry);
    });
  });

  describe("standing: active does business, suspended services, expelled does nothing", function () {
    it("answers the standing rule every contract applies", async function () {
      const { alliance, platformA, platformB, governance, outsider } = await loadFixture(deployAllianceFixture);
      await alliance.suspendMember(platformB);
      const standing = async (account: { address: string }) => [
        await alliance.isActiveMember(account.address, 1),
        await alliance.isServicingMember(account.address, 1),
      ];
      expect(await standing(platformA)).to.deep.equal([true, true]);
      expect(await standing(platformB)).to.deep.equal([false, true]);
      await alliance.expelMember(platformB);
      expect(await standing(platformB)).to.deep.equal([false, false]);
      expect(await standing(outsider)).to.deep.equal([false, false]);
      expect(await alliance.isGovernance(governance)).to.equal(true);
      expect(await alliance.isGovernance(platformA)).to.equal(false);
    });
  });

  describe("revokeLender", function () {
    it("is allowed to the vouching platform and to governance", async function () {
      const { alliance, platformA, lender, outsider } = await loadFixture(deployAllianceFixture);
      await expect(alliance.connect(platformA).revokeLender(lender))
        .to.emit(alliance, "LenderRevoked")
        .withArgs(lender.address, platformA.address);
      expect(await alliance.isAllowedLender(lender)).to.equal(false);
      await alliance.connect(platformA).allowLender(outsider, (await time.latest()) + DAY);
      await alliance.revokeLender(outsider);
      expect(await alliance.isAllowedLender(outsider)).to.equal(false);
    });

    for (const role of ["platformB", "auditor", "lender", "outsider"] as const) {
      it(`reverts for ${role}`, async function () {
        const f = await loadFixture(deployAllianceFixture);
        await expect(f.alliance.connect(f[role]).revokeLender(f.lender))
          .to.be.revertedWithCustomError(f.alliance, "AllianceRegistryUnauthorized")
          .withArgs(f[role].address);
      });
    }

    it("reverts for an account that is not on the allowlist", async function () {
      const { alliance, outsider } = await loadFixture(deployAllianceFixture);
      await expect(alliance.revokeLender(outsider))
        .to.be.revertedWithCustomError(alliance, "AllianceRegistryUnknownLender")
        .withArgs(outsider.address);
    });
  });

  describe("governance transfer", function () {
    it("cannot be granted in one step", async function () {
      const { alliance, outsider } = await loadFixture(deployAllianceFixture);
      await expect(alliance.grantRole(await alliance.DEFAULT_ADMIN_ROLE(), outsider)).to.be.revertedWithCustomError(
        alliance,
        "AccessControlEnforcedDefaultAdminRules",
      );
    });

    it("is accepted by the new account only after the delay", async function () {
      const { alliance, governance, outsider } = await loadFixture(deployAllianceFixture);
      await alliance.beginDefaultAdminTransfer(outsider);
      const [, schedule] = await alliance.pendingDefaultAdmin();
      await expect(alliance.connect(outsider).acceptDefaultAdminTransfer())
        .to.be.revertedWithCustomError(alliance, "AccessControlEnforcedDefaultAdminDelay")
        .withArgs(schedule);
      await time.increaseTo(schedule + 1n);
      await alliance.connect(outsider).acceptDefaultAdminTransfer();
      expect(await alliance.defaultAdmin()).to.equal(outsider.address);
      expect(await alliance.hasRole(await alliance.DEFAULT_ADMIN_ROLE(), governance)).to.equal(false);
    });

    it("cannot be renounced without a scheduled, delayed transfer to nobody", async function () {
      const { alliance, governance } = await loadFixture(deployAllianceFixture);
      await expect(
        alliance.renounceRole(await alliance.DEFAULT_ADMIN_ROLE(), governance),
      ).to.be.revertedWithCustomError(alliance, "AccessControlEnforcedDefaultAdminDelay");
    });
  });
});
