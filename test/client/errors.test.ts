import { expect } from "chai";
import { Interface, ZeroHash, type ErrorFragment, type ParamType } from "ethers";
import { ContractError, decodeRevertData } from "../../src/client/index.js";
import { SUITE_ABIS as SUITE } from "./suite-abis.js";

/** A value of `param`'s type, enough to encode an error that carries it. */
function sample(param: ParamType): unknown {
  if (param.baseType === "array") return [];
  if (param.baseType === "tuple") return param.components!.map(sample);
  if (param.type === "address") return "0x00000000000000000000000000000000000000a1";
  if (param.type === "bool") return true;
  if (param.type === "string") return "x";
  if (param.type === "bytes") return "0x01";
  if (param.type.startsWith("bytes")) return ZeroHash.slice(0, 2 + 2 * Number(param.type.slice(5)));
  return 1n;
}

describe("Contract errors in the client", function () {
  for (const [contract, abi] of Object.entries(SUITE)) {
    it(`decodes every error ${contract} can raise into a named error with a sentence`, function () {
      const iface = new Interface(abi);
      const unknown: string[] = [];
      iface.forEachError((fragment: ErrorFragment) => {
        const data = iface.encodeErrorResult(fragment, fragment.inputs.map(sample));
        const decoded = decodeRevertData(data);
        if (!(decoded instanceof ContractError) || decoded.errorName !== fragment.name) unknown.push(fragment.name);
        else expect(decoded.message, fragment.name).to.match(new RegExp(`^${fragment.name}: \\S`));
      });
      expect(unknown, `errors the client cannot name`).to.deep.equal([]);
    });
  }
});
