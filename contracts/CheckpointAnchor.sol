// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/**
 * @title CheckpointAnchor
 * @notice Anchors signed checkpoints of RFC 9162 transparency logs: for each log, the
 * Merkle root at each anchored tree size, with tree sizes strictly increasing.
 * @dev One contract serves many logs. A log is named by `logId`, the SHA-256 of its
 * checkpoint origin line. Only accounts holding {ANCHORER_ROLE} may anchor; the
 * {DEFAULT_ADMIN_ROLE} grants and revokes that role.
 *
 * Storage per anchor: one slot for the root at `(logId, treeSize)` and one slot for the
 * log's latest tree size (a single `uint64`, the latest root is read through it). The
 * first anchor of a log therefore writes two fresh slots and every later one writes one
 * fresh slot and updates one, whatever the tree size.
 *
 * Inclusion proofs are checked exactly as RFC 9162 section 2.1.3.2 prescribes, with the
 * SHA-256 precompile: leaf hash `sha256(0x00 || data)`, node hash
 * `sha256(0x01 || left || right)`. The verify functions never revert on a bad proof:
 * they answer `false`.
 */
contract CheckpointAnchor is AccessControl {
    /// @notice Role allowed to call {anchor}.
    /// @dev Granted to the `anchorer` of the constructor; administered by {DEFAULT_ADMIN_ROLE}.
    bytes32 public constant ANCHORER_ROLE = keccak256("ANCHORER_ROLE");

    /// @dev Root hash of each anchored `(logId, treeSize)`; zero where nothing is anchored.
    mapping(bytes32 logId => mapping(uint64 treeSize => bytes32 rootHash)) private _roots;

    /// @dev Latest anchored tree size of each log; zero before the first anchor.
    mapping(bytes32 logId => uint64 treeSize) private _latestTreeSize;

    /**
     * @notice A checkpoint of log `logId` at `treeSize` with `rootHash` was anchored.
     * @dev Emitted by {anchor} right after the state change.
     */
    event CheckpointAnchored(
        bytes32 indexed logId,
        uint64 indexed treeSize,
        bytes32 rootHash,
        address indexed anchorer
    );

    /**
     * @notice `treeSize` is not above the latest anchored size of log `logId`.
     * @dev Also raised for a first anchor at tree size zero (`latestTreeSize` is then zero).
     */
    error CheckpointAnchorTreeSizeNotIncreasing(
        bytes32 logId,
        uint64 latestTreeSize,
        uint64 treeSize
    );

    /// @notice The root hash given for log `logId` is zero, which would read as "not anchored".
    /// @dev Raised by {anchor}.
    error CheckpointAnchorEmptyRoot(bytes32 logId);

    /// @notice The constructor was given the zero address for `role`.
    /// @dev A zero admin would lock the roles for ever; a zero anchorer could never anchor.
    error CheckpointAnchorZeroAccount(bytes32 role);

    /**
     * @notice Deploys the anchor with `admin` administering roles and `anchorer` anchoring.
     * @dev Grants {DEFAULT_ADMIN_ROLE} to `admin` and {ANCHORER_ROLE} to `anchorer`.
     * Reverts with {CheckpointAnchorZeroAccount} if either is the zero address.
     */
    constructor(address admin, address anchorer) {
        if (admin == address(0)) revert CheckpointAnchorZeroAccount(DEFAULT_ADMIN_ROLE);
        if (anchorer == address(0)) revert CheckpointAnchorZeroAccount(ANCHORER_ROLE);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(ANCHORER_ROLE, anchorer);
    }

    /**
     * @notice Anchors the checkpoint `(treeSize, rootHash)` of log `logId`.
     * @dev Only {ANCHORER_ROLE}. `treeSize` must be strictly above the log's latest
     * anchored size (so at least 1 for the first anchor) and `rootHash` non-zero.
     * Emits {CheckpointAnchored}.
     */
    function anchor(
        bytes32 logId,
        uint64 treeSize,
        bytes32 rootHash
    ) external onlyRole(ANCHORER_ROLE) {
        uint64 latestTreeSize = _latestTreeSize[logId];
        if (treeSize <= latestTreeSize) {
            revert CheckpointAnchorTreeSizeNotIncreasing(logId, latestTreeSize, treeSize);
        }
        if (rootHash == bytes32(0)) revert CheckpointAnchorEmptyRoot(logId);
        _roots[logId][treeSize] = rootHash;
        _latestTreeSize[logId] = treeSize;
        emit CheckpointAnchored(logId, treeSize, rootHash, _msgSender());
    }

    /**
     * @notice Root hash anchored for log `logId` at `treeSize`, or zero if none was.
     * @dev Only sizes passed to {anchor} have a root; sizes in between answer zero.
     */
    function rootAt(bytes32 logId, uint64 treeSize) external view returns (bytes32) {
        return _roots[logId][treeSize];
    }

    /**
     * @notice Latest anchored checkpoint of log `logId`, or `(0, 0)` if it has none.
     * @dev The root is read through the stored latest size.
     */
    function latest(bytes32 logId) external view returns (uint64 treeSize, bytes32 rootHash) {
        treeSize = _latestTreeSize[logId];
        rootHash = _roots[logId][treeSize];
    }

    /**
     * @notice Whether `proof` shows that `leafHash` is leaf `leafIndex` of the tree of
     * `treeSize` anchored for log `logId`.
     * @dev RFC 9162 section 2.1.3.2. Answers `false`, never reverts, when the size is not
     * anchored, `leafIndex >= treeSize`, the proof has the wrong length or the computed
     * root differs from the anchored one.
     */
    function verifyInclusion(
        bytes32 logId,
        uint64 treeSize,
        uint64 leafIndex,
        bytes32 leafHash,
        bytes32[] calldata proof
    ) external view returns (bool) {
        return _verifyInclusion(logId, treeSize, leafIndex, leafHash, proof);
    }

    /**
     * @notice Like {verifyInclusion}, for the leaf's data rather than its hash.
     * @dev The leaf hash `sha256(0x00 || leafData)` (RFC 9162 section 2.1.1) is computed here.
     */
    function verifyLeaf(
        bytes32 logId,
        uint64 treeSize,
        uint64 leafIndex,
        bytes calldata leafData,
        bytes32[] calldata proof
    ) external view returns (bool) {
        bytes32 leafHash = sha256(abi.encodePacked(bytes1(0x00), leafData));
        return _verifyInclusion(logId, treeSize, leafIndex, leafHash, proof);
    }

    /**
     * @dev Shared body of {verifyInclusion} and {verifyLeaf}: looks up the anchored root
     * and compares it with the root recomputed from the proof.
     */
    function _verifyInclusion(
        bytes32 logId,
        uint64 treeSize,
        uint64 leafIndex,
        bytes32 leafHash,
        bytes32[] calldata proof
    ) private view returns (bool) {
        bytes32 anchored = _roots[logId][treeSize];
        if (anchored == bytes32(0) || leafIndex >= treeSize) return false;
        (bool complete, bytes32 computed) = _rootFromProof(treeSize, leafIndex, leafHash, proof);
        return complete && computed == anchored;
    }

    /**
     * @dev RFC 9162 section 2.1.3.2, steps 1 to 5, for `leafIndex < treeSize`. Returns
     * `complete == false` when the proof is too long or too short for the position; the
     * loop stops as soon as the proof is known to be too long, so it runs at most 64 times.
     */
    function _rootFromProof(
        uint64 treeSize,
        uint64 leafIndex,
        bytes32 leafHash,
        bytes32[] calldata proof
    ) private pure returns (bool complete, bytes32 computed) {
        uint256 fn = leafIndex;
        uint256 sn = uint256(treeSize) - 1;
        computed = leafHash;
        uint256 length = proof.length;
        for (uint256 i = 0; i < length; ++i) {
            if (sn == 0) return (false, computed);
            if (fn & 1 == 1 || fn == sn) {
                computed = _hashChildren(proof[i], computed);
                while (fn != 0 && fn & 1 == 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
            } else {
                computed = _hashChildren(computed, proof[i]);
            }
            fn >>= 1;
            sn >>= 1;
        }
        complete = sn == 0;
    }

    /// @dev RFC 9162 interior node hash `sha256(0x01 || left || right)`.
    function _hashChildren(bytes32 left, bytes32 right) private pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes1(0x01), left, right));
    }
}
