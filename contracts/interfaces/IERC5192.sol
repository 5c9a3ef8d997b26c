// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

/// @title Minimal soulbound interface (ERC-5192): whether a token can move now
/// @notice Wallets and marketplaces read `locked` before they offer a transfer, and follow `Locked`/`Unlocked` to keep
/// their view current; a locked token's transfer reverts.
interface IERC5192 {
    /// @notice `tokenId` can no longer be transferred by its owner.
    event Locked(uint256 tokenId);
    /// @notice `tokenId` can be transferred by its owner again.
    event Unlocked(uint256 tokenId);

    /// @notice Whether `tokenId` is locked. Reverts for a token that does not exist.
    function locked(uint256 tokenId) external view returns (bool);
}
