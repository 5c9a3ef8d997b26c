// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title MockContractWallet: an ERC-1271 wallet (a company's multisig, a custodian), for tests and the demo only
/// @notice Accepts a digest signed by its owner's key (65 or 64 bytes), unless it was told to refuse everything.
contract MockContractWallet is IERC1271 {
    address public immutable OWNER;
    bool public refusing;

    constructor(address owner) {
        OWNER = owner;
    }

    /// @dev Anyone may flip it: a test stand-in for a wallet whose signers withdrew their approval.
    function setRefusing(bool refuse) external {
        refusing = refuse;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        // The 65-byte form, or the 64-byte compact one (ERC-2098) that the collateral registry forwards.
        (address signer, ECDSA.RecoverError error, ) = signature.length == 64
            ? ECDSA.tryRecover(hash, bytes32(signature[0:32]), bytes32(signature[32:64]))
            : ECDSA.tryRecoverCalldata(hash, signature);
        if (!refusing && error == ECDSA.RecoverError.NoError && signer == OWNER)
            return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}
