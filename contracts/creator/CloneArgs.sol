// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

/**
 * @title CloneArgs
 * @notice Packs a creator token's fixed identity (creator, name, symbol, one extra word) into the
 * immutable arguments of its minimal clone. Reading them back costs an EXTCODECOPY instead of the
 * four storage slots a classic initializer writes, which is what keeps a creator launch cheap.
 * @dev Layout: creator (20 bytes) | extra (32 bytes) | nameLength (1 byte) | name | symbol.
 */
library CloneArgs {
    error NameTooLong();

    /// @dev Encodes the clone arguments.
    function encode(address creator_, uint256 extra_, string memory name_, string memory symbol_)
        internal
        pure
        returns (bytes memory)
    {
        if (bytes(name_).length > type(uint8).max) revert NameTooLong();
        return abi.encodePacked(creator_, extra_, uint8(bytes(name_).length), name_, symbol_);
    }

    /// @dev The creator the calling clone belongs to.
    function creator() internal view returns (address) {
        return address(bytes20(_slice(0, 20)));
    }

    /// @dev The extra word (the pass uses it for its royalty rate).
    function extra() internal view returns (uint256) {
        return uint256(bytes32(_slice(20, 32)));
    }

    /// @dev The token name.
    function name() internal view returns (string memory) {
        bytes memory args = Clones.fetchCloneArgs(address(this));
        return string(_copy(args, 53, uint8(args[52])));
    }

    /// @dev The token symbol.
    function symbol() internal view returns (string memory) {
        bytes memory args = Clones.fetchCloneArgs(address(this));
        uint256 start = 53 + uint8(args[52]);
        return string(_copy(args, start, args.length - start));
    }

    function _slice(uint256 start, uint256 length) private view returns (bytes memory) {
        return _copy(Clones.fetchCloneArgs(address(this)), start, length);
    }

    function _copy(bytes memory data, uint256 start, uint256 length) private pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i; i < length; ++i) out[i] = data[start + i];
    }
}
