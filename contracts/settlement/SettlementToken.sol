// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// @title SettlementToken: a stand-in for the custodian bank's deposit token, on local and test networks only
/// @notice A plain ERC-20 that its owner (the custodian bank) issues. Production deployments point the suite at the real
/// token instead; a real deposit token may add a blocklist, which the splitter tolerates (a blocked lender is skipped
/// and keeps its payout) and which costs each transfer one more storage read.
contract SettlementToken is ERC20, Ownable {
    constructor(address issuer) ERC20("LoanLedger Settlement Token", "LLST") Ownable(issuer) {}

    function mint(address to, uint256 amount) external onlyOwner {
        _mint(to, amount);
    }
}
