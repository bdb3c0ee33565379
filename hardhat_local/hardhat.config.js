// The local development chain: `sunledger chain up` runs `hardhat node` here.
// Nothing is compiled by Hardhat; contracts are built with solcjs (see solc-wrapper.js).
module.exports = {
  networks: {
    hardhat: {
      chainId: 31337,
    },
  },
};
