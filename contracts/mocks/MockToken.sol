// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Called by {MockToken} in Hook mode on a contract recipient, as ERC-777 and ERC-1363 tokens do.
interface ITokenHook {
    function onTokenTransfer(address from, uint256 amount) external;
}

/// @title MockToken: the settlement tokens a splitter may meet, for tests only
/// @notice Standard; NoReturn (transfer functions return nothing, as USDT does); ReturnFalse (fails by returning false);
/// FeeOnTransfer (1% of every transfer is burnt); Hook (calls {ITokenHook} on recipients that registered for it, as
/// ERC-777 recipients register). Any mode can also block accounts, as a regulated deposit token does.
contract MockToken is ERC20 {
    enum Behaviour {
        Standard,
        NoReturn,
        ReturnFalse,
        FeeOnTransfer,
        Hook
    }

    error MockTokenBlocked(address account);

    Behaviour public immutable BEHAVIOUR;
    mapping(address account => bool) public blocked;
    mapping(address account => bool) public hooked;

    constructor(Behaviour behaviour) ERC20("Mock Token", "MOCK") {
        BEHAVIOUR = behaviour;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    function setBlocked(address account, bool isBlocked) external {
        blocked[account] = isBlocked;
    }

    function setHooked(address account, bool isHooked) external {
        hooked[account] = isHooked;
    }

    function transfer(address to, uint256 amount) public override returns (bool) {
        return _move(msg.sender, to, amount);
    }

    function transferFrom(address from, address to, uint256 amount) public override returns (bool) {
        _spendAllowance(from, msg.sender, amount);
        return _move(from, to, amount);
    }

    function _move(address from, address to, uint256 amount) private returns (bool) {
        if (BEHAVIOUR == Behaviour.ReturnFalse) return false;
        if (blocked[from]) revert MockTokenBlocked(from);
        if (blocked[to]) revert MockTokenBlocked(to);
        if (BEHAVIOUR == Behaviour.FeeOnTransfer) {
            uint256 fee = amount / 100;
            _burn(from, fee);
            amount -= fee;
        }
        _transfer(from, to, amount);
        if (BEHAVIOUR == Behaviour.Hook && hooked[to]) ITokenHook(to).onTokenTransfer(from, amount);
        if (BEHAVIOUR == Behaviour.NoReturn) {
            assembly ("memory-safe") {
                return(0, 0)
            }
        }
        return true;
    }
}
