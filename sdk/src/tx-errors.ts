import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError, InsufficientFundsError } from "viem";

/** A one-line explanation of why a wallet request or transaction failed. */
export function explainTxError(error: unknown): string {
  if (!error) return "";
  if (error instanceof BaseError) {
    if (error.walk((e) => e instanceof UserRejectedRequestError)) return "You rejected the request in your wallet.";
    if (error.walk((e) => e instanceof InsufficientFundsError) || /insufficient funds|exceeds the balance of the account/i.test(error.message)) {
      return "Insufficient funds: your wallet cannot pay the price plus gas.";
    }
    const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError) {
      const name = revert.data?.errorName;
      const map: Record<string, string> = {
        PriceChanged: "The price changed since you opened this page. Reload and try again.",
        NotForSale: "This item is not for sale.",
        TermsChanged: "The creator changed the price or terms since you opened this page. Check the new terms and try again.",
        EnforcedPause: "Sales are paused on the platform right now.",
        AlreadyLaunched: "This wallet has already launched as a creator.",
        SubscriptionNotOffered: "Subscriptions are not offered in this currency.",
        MintingDisabled: "The creator has not opened pass minting.",
        WrongPayment: "The pass price changed. Reload and try again.",
        SoldOut: "All passes are minted.",
        ERC20InsufficientBalance: "Insufficient token balance.",
        ERC20InsufficientAllowance: "The token allowance is too small.",
        ContentExists: "An item with this id already exists.",
        NotStreamable: "The creator does not offer this item per minute (any more). Reload the page.",
        WrongStreamToken: "The creator changed the per-minute currency since you opened this page. Reload and try again.",
        RateBelowPrice: "The creator raised the per-minute price since you opened this page. Reload and try again.",
      };
      if (name && map[name]) return map[name];
      if (name) return `The contract refused: ${name}.`;
      return `The contract refused: ${revert.reason ?? revert.shortMessage}`;
    }
    const msg = error.shortMessage || error.message;
    if (/insufficient funds/i.test(msg)) return "Insufficient funds: your wallet cannot pay the price plus gas.";
    if (/chain mismatch|does not match the target chain|wrong network/i.test(msg)) return "Wrong network: switch your wallet to the StreamVault chain.";
    if (/rejected|denied/i.test(msg)) return "You rejected the request in your wallet.";
    return msg;
  }
  const msg = error instanceof Error ? error.message : String(error);
  if (/rejected|denied/i.test(msg)) return "You rejected the request in your wallet.";
  return msg;
}
