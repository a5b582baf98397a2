/**
 * @streamvault/sdk: StreamVault playback and payments for any React site with a wagmi config.
 * See sdk/README.md.
 */
export { StreamVaultProvider, useStreamVault, useContracts, type ContractLookup, configFromDeployment, type StreamVaultConfig, type StreamVaultContracts, type DeploymentLike } from "./config.tsx";
export { StreamPlayer, type PlayingState } from "./StreamPlayer.tsx";
export { attachTrack, type AttachedTrack } from "./track.ts";
export { PaymentWidget, UnlockButton, UnlockPanel, noAccessStatus, useAccess, useContentItem, usePurchase, type UnlockItem, type CreatorTokens, type AccessState } from "./PaymentWidget.tsx";
export { PayPerMinute, type StreamSession } from "./PayPerMinute.tsx";
export { TxStatus } from "./TxStatus.tsx";
export { useTx, type TxState } from "./useTx.ts";
export { signIn, ensureSignedIn, requestContentKey, KeyRequestError } from "./keys.ts";
export { ContentKeySource, MinuteKeySource, variantsByMinute, type SegmentKeySource, type MinuteKeyFetcher } from "./segment-keys.ts";
export { newSessionKey, signVoucher, streamMinute, type SessionKey } from "./stream.ts";
export { choosePreload, bufferAheadSeconds, qualityOrder, readDeviceHints, type PreloadStrategy, type DeviceHints } from "./preload.ts";
export * from "./format.ts";
export { explainTxError } from "./tx-errors.ts";
export { CreatorDashboard } from "./CreatorDashboard.tsx";
export {
  createIndexerClient,
  gqlDocument,
  sqlQuery,
  earningsQuery,
  salesQuery,
  creatorContentsDocument,
  IndexerError,
  type IndexerClient,
  type IndexerRow,
  type IndexerTable,
  type GqlDocument,
  type LiveQuery,
  type CreatorEarning,
  type CreatorSale,
  type CreatorContent,
} from "./indexer.ts";
