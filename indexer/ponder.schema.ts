/**
 * Tables of the StreamVault indexer. Every row is written by the handler of one event (see
 * src/*.ts); values are what the events say, aggregated where a table is a running total.
 * Addresses and hashes are lowercase hex; token `0x000…000` is the chain's native currency.
 */
import { index, onchainTable, primaryKey, relations } from "ponder";

// ------------------------------------------------------------------ creators, coins, passes

/** One row per launched creator (CreatorLaunched, ProfileUpdated, pass config events). */
export const creator = onchainTable(
  "creator",
  (t) => ({
    id: t.hex().primaryKey(), // creator wallet
    coin: t.hex().notNull(),
    pass: t.hex().notNull(),
    profileUri: t.text().notNull(),
    coinName: t.text().notNull(),
    coinSymbol: t.text().notNull(),
    coinSupply: t.bigint().notNull(),
    coinCreatorAllocation: t.bigint().notNull(),
    /** Sum of ReserveDistributed amounts. */
    coinReserveDistributed: t.bigint().notNull(),
    passName: t.text().notNull(),
    passSymbol: t.text().notNull(),
    passMaxSupply: t.bigint().notNull(),
    passMintPrice: t.bigint().notNull(),
    passMintEnabled: t.boolean().notNull(),
    passRoyaltyBps: t.integer().notNull(),
    passMetadataUri: t.text(),
    launchBlock: t.bigint().notNull(),
    launchTimestamp: t.bigint().notNull(),
    launchTx: t.hex().notNull(),
    updatedBlock: t.bigint().notNull(),
  }),
  (table) => ({ coinIdx: index().on(table.coin), passIdx: index().on(table.pass), launchBlockIdx: index().on(table.launchBlock) }),
);

/** Coin or pass clone address -> its creator (filled from CreatorLaunched). */
export const creatorToken = onchainTable("creator_token", (t) => ({
  id: t.hex().primaryKey(), // token address
  creator: t.hex().notNull(),
  kind: t.text().notNull(), // "coin" | "pass"
}));

/** Coin balance per wallet (ERC-20 Transfer of every creator coin). */
export const coinHolding = onchainTable(
  "coin_holding",
  (t) => ({
    coin: t.hex().notNull(),
    holder: t.hex().notNull(),
    creator: t.hex().notNull(),
    balance: t.bigint().notNull(),
    updatedBlock: t.bigint().notNull(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.coin, table.holder] }),
    // coinHoldings(where: { holder }) in Ponder's default (primary-key) order
    holderIdx: index().on(table.holder, table.coin),
    creatorIdx: index().on(table.creator),
  }),
);

/** Number of passes per wallet (ERC-721 Transfer of every creator pass). */
export const passHolding = onchainTable(
  "pass_holding",
  (t) => ({
    pass: t.hex().notNull(),
    holder: t.hex().notNull(),
    creator: t.hex().notNull(),
    count: t.bigint().notNull(),
    updatedBlock: t.bigint().notNull(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.pass, table.holder] }),
    // passHoldings(where: { holder }) in Ponder's default (primary-key) order
    holderIdx: index().on(table.holder, table.pass),
    creatorIdx: index().on(table.creator, table.count),
  }),
);

/** Each pass token and its current owner. */
export const passToken = onchainTable(
  "pass_token",
  (t) => ({
    pass: t.hex().notNull(),
    tokenId: t.bigint().notNull(),
    creator: t.hex().notNull(),
    owner: t.hex().notNull(),
    mintedBlock: t.bigint().notNull(),
    mintedTimestamp: t.bigint().notNull(),
    transfers: t.integer().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.pass, table.tokenId] }), ownerIdx: index().on(table.owner) }),
);

/** Every coin and pass transfer (mints included: `from` is zero). */
export const tokenTransfer = onchainTable(
  "token_transfer",
  (t) => ({
    id: t.text().primaryKey(), // event id
    token: t.hex().notNull(),
    kind: t.text().notNull(), // "coin" | "pass"
    creator: t.hex().notNull(),
    from: t.hex().notNull(),
    to: t.hex().notNull(),
    /** Coin amount, or pass token id. */
    value: t.bigint().notNull(),
    block: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    tx: t.hex().notNull(),
  }),
  (table) => ({
    tokenIdx: index().on(table.token),
    fromIdx: index().on(table.from),
    toIdx: index().on(table.to),
    // tokenTransfers(where: { kind, from_not })
    kindIdx: index().on(table.kind, table.block),
  }),
);

// ------------------------------------------------------------------ content

/** Current state of every content item (ContentRegistered, RulesUpdated, CollaboratorsUpdated, ManifestUpdated). */
export const content = onchainTable(
  "content",
  (t) => ({
    id: t.hex().primaryKey(), // contentId
    creator: t.hex().notNull(),
    externalId: t.hex().notNull(),
    tier: t.integer().notNull(), // 0 free, 1 premium, 2 exclusive
    tierName: t.text().notNull(),
    manifestCid: t.hex().notNull(), // PieceCID bytes
    manifestPieceCid: t.text().notNull(), // PieceCID string (base32 "b..." form)
    minCoinBalance: t.bigint().notNull(),
    minPasses: t.bigint().notNull(),
    inSubscription: t.boolean().notNull(),
    paymentToken: t.hex().notNull(),
    price: t.bigint().notNull(),
    /** Terms version a purchase must name (ContentAccess.purchaseAccess): 1 at registration, then RulesUpdated's. */
    termsVersion: t.integer().notNull(),
    /** Seconds per access period as set by the creator; 0 = the contract default (30 days). */
    duration: t.bigint().notNull(),
    collaborators: t.json().$type<{ account: `0x${string}`; shareBps: number }[]>().notNull(),
    registeredBlock: t.bigint().notNull(),
    registeredTimestamp: t.bigint().notNull(),
    registeredTx: t.hex().notNull(),
    updatedBlock: t.bigint().notNull(),
    updatedTimestamp: t.bigint().notNull(),
    /** Number of changes after registration. */
    revisionCount: t.integer().notNull(),
  }),
  // contents(where: { creator }, orderBy: "registeredBlock") and contents(orderBy: "registeredBlock").
  // Ponder appends the primary key to every orderBy (its cursor tie-break), so these indexes end
  // with `id`: the first page is read straight off the index instead of every match being read and sorted.
  (table) => ({ creatorIdx: index().on(table.creator, table.registeredBlock, table.id), tierIdx: index().on(table.tier), registeredBlockIdx: index().on(table.registeredBlock, table.id) }),
);

/** Current collaborators of each content item (one row per collaborator). */
export const contentCollaborator = onchainTable(
  "content_collaborator",
  (t) => ({
    contentId: t.hex().notNull(),
    account: t.hex().notNull(),
    creator: t.hex().notNull(),
    shareBps: t.integer().notNull(),
    position: t.integer().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.contentId, table.account] }), accountIdx: index().on(table.account) }),
);

/** History of every content change: registration and each rules / collaborators / manifest update. */
export const contentRevision = onchainTable(
  "content_revision",
  (t) => ({
    id: t.text().primaryKey(), // event id
    contentId: t.hex().notNull(),
    kind: t.text().notNull(), // "registered" | "rules" | "collaborators" | "manifest"
    /** The rules in force after this change (rules are copied on every kind for easy diffing). */
    minCoinBalance: t.bigint(),
    minPasses: t.bigint(),
    inSubscription: t.boolean(),
    paymentToken: t.hex(),
    price: t.bigint(),
    duration: t.bigint(),
    termsVersion: t.integer(),
    collaborators: t.json().$type<{ account: `0x${string}`; shareBps: number }[]>(),
    manifestCid: t.hex(),
    manifestPieceCid: t.text(),
    block: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    tx: t.hex().notNull(),
  }),
  // content { revisions(orderBy: "block") } and contentRevisions(where: { kind })
  (table) => ({ contentIdx: index().on(table.contentId, table.block), kindIdx: index().on(table.kind, table.block) }),
);

// ------------------------------------------------------------------ access

/** Bought access per (content, wallet): expiry from the latest AccessPurchased. */
export const accessGrant = onchainTable(
  "access_grant",
  (t) => ({
    contentId: t.hex().notNull(),
    buyer: t.hex().notNull(),
    creator: t.hex().notNull(),
    expiresAt: t.bigint().notNull(),
    purchases: t.integer().notNull(),
    firstPurchasedAt: t.bigint().notNull(),
    lastPurchasedAt: t.bigint().notNull(),
  }),
  (table) => ({
    pk: primaryKey({ columns: [table.contentId, table.buyer] }),
    // accessGrants(where: { buyer }): pages in primary-key order (Ponder's default), served by the index.
    buyerIdx: index().on(table.buyer, table.contentId),
    creatorIdx: index().on(table.creator),
  }),
);

/** Every AccessPurchased event. */
export const accessPurchase = onchainTable(
  "access_purchase",
  (t) => ({
    id: t.text().primaryKey(),
    contentId: t.hex().notNull(),
    creator: t.hex().notNull(),
    buyer: t.hex().notNull(),
    token: t.hex().notNull(),
    amount: t.bigint().notNull(),
    expiresAt: t.bigint().notNull(),
    /** true when this purchase extended access that was still running. */
    renewal: t.boolean().notNull(),
    block: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    tx: t.hex().notNull(),
  }),
  (table) => ({
    // accessPurchases(where: { contentId }, orderBy: "block")
    contentIdx: index().on(table.contentId, table.block),
    buyerIdx: index().on(table.buyer),
    creatorIdx: index().on(table.creator),
  }),
);

/** Premium subscription per wallet (expiry from the latest Subscribed). */
export const subscription = onchainTable("subscription", (t) => ({
  id: t.hex().primaryKey(), // subscriber
  expiresAt: t.bigint().notNull(),
  periods: t.bigint().notNull(),
  payments: t.integer().notNull(),
  firstSubscribedAt: t.bigint().notNull(),
  lastSubscribedAt: t.bigint().notNull(),
}));

/** Every Subscribed event. */
export const subscriptionPayment = onchainTable(
  "subscription_payment",
  (t) => ({
    id: t.text().primaryKey(),
    subscriber: t.hex().notNull(),
    token: t.hex().notNull(),
    amount: t.bigint().notNull(),
    periods: t.bigint().notNull(),
    expiresAt: t.bigint().notNull(),
    block: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    tx: t.hex().notNull(),
  }),
  (table) => ({ subscriberIdx: index().on(table.subscriber) }),
);

// ------------------------------------------------------------------ payment channels

export const channel = onchainTable(
  "channel",
  (t) => ({
    id: t.bigint().primaryKey(), // channelId
    viewer: t.hex().notNull(),
    creator: t.hex().notNull(),
    contentId: t.hex().notNull(),
    token: t.hex().notNull(),
    deposit: t.bigint().notNull(),
    redeemed: t.bigint().notNull(),
    refunded: t.bigint(),
    ratePerMinute: t.bigint().notNull(),
    closesAt: t.bigint().notNull(),
    status: t.text().notNull(), // "open" | "closing" | "closed"
    vouchers: t.integer().notNull(),
    sessionKey: t.hex(),
    sessionKeySpendingCap: t.bigint(),
    sessionKeyExpiresAt: t.bigint(),
    openedBlock: t.bigint().notNull(),
    openedTimestamp: t.bigint().notNull(),
    openedTx: t.hex().notNull(),
    closedTimestamp: t.bigint(),
  }),
  (table) => ({
    viewerIdx: index().on(table.viewer),
    creatorIdx: index().on(table.creator),
    contentIdx: index().on(table.contentId),
  }),
);

/** Each item's current pay-per-minute price (StreamPriceSet; ratePerMinute 0 = not offered per minute). */
export const streamPrice = onchainTable(
  "stream_price",
  (t) => ({
    id: t.hex().primaryKey(), // contentId
    creator: t.hex().notNull(),
    token: t.hex().notNull(),
    ratePerMinute: t.bigint().notNull(),
    /** Number of StreamPriceSet events for this item. */
    updates: t.integer().notNull(),
    updatedBlock: t.bigint().notNull(),
    updatedTimestamp: t.bigint().notNull(),
    updatedTx: t.hex().notNull(),
  }),
  (table) => ({ creatorIdx: index().on(table.creator) }),
);

/** Every SessionKeyAuthorized (zero key = revoked). */
export const sessionKey = onchainTable(
  "session_key",
  (t) => ({
    id: t.text().primaryKey(),
    channelId: t.bigint().notNull(),
    key: t.hex().notNull(),
    spendingCap: t.bigint().notNull(),
    expiresAt: t.bigint().notNull(),
    block: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
  }),
  (table) => ({ channelIdx: index().on(table.channelId) }),
);

/** Every VoucherRedeemed. */
export const voucherRedemption = onchainTable(
  "voucher_redemption",
  (t) => ({
    id: t.text().primaryKey(),
    channelId: t.bigint().notNull(),
    contentId: t.hex().notNull(),
    creator: t.hex().notNull(),
    signer: t.hex().notNull(),
    cumulativeAmount: t.bigint().notNull(),
    paid: t.bigint().notNull(),
    redeemedTotal: t.bigint().notNull(),
    block: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    tx: t.hex().notNull(),
  }),
  // voucherRedemptions(orderBy: "block"), channel { redemptions }
  (table) => ({ channelIdx: index().on(table.channelId), creatorIdx: index().on(table.creator), blockIdx: index().on(table.block) }),
);

// ------------------------------------------------------------------ revenue

/** Every Credited event of both ledgers (ContentAccess and PaymentChannels). */
export const credit = onchainTable(
  "credit",
  (t) => ({
    id: t.text().primaryKey(),
    ledger: t.text().notNull(), // "ContentAccess" | "PaymentChannels"
    payee: t.hex().notNull(),
    token: t.hex().notNull(),
    contentId: t.hex().notNull(), // zero for pass mints and subscriptions
    role: t.integer().notNull(), // 0 platform, 1 creator, 2 collaborator, 3 refund
    roleName: t.text().notNull(),
    amount: t.bigint().notNull(),
    block: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    tx: t.hex().notNull(),
  }),
  (table) => ({
    // credits(where: { payee } / { contentId }, orderBy: "block"), `id` being Ponder's tie-break
    payeeIdx: index().on(table.payee, table.block, table.id),
    contentIdx: index().on(table.contentId, table.block, table.id),
  }),
);

/** Earnings per payee per token, summed over both ledgers; balances per ledger tell where to withdraw. */
export const earning = onchainTable(
  "earning",
  (t) => ({
    payee: t.hex().notNull(),
    token: t.hex().notNull(),
    creatorShare: t.bigint().notNull(),
    platformFee: t.bigint().notNull(),
    collaboratorShare: t.bigint().notNull(),
    refund: t.bigint().notNull(),
    totalCredited: t.bigint().notNull(),
    withdrawn: t.bigint().notNull(),
    /** credited - withdrawn on ContentAccess. */
    contentAccessBalance: t.bigint().notNull(),
    /** credited - withdrawn on PaymentChannels. */
    paymentChannelsBalance: t.bigint().notNull(),
    updatedBlock: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.payee, table.token] }), payeeIdx: index().on(table.payee) }),
);

/** Every Withdrawn event of both ledgers. */
export const withdrawal = onchainTable(
  "withdrawal",
  (t) => ({
    id: t.text().primaryKey(),
    ledger: t.text().notNull(),
    payee: t.hex().notNull(),
    token: t.hex().notNull(),
    amount: t.bigint().notNull(),
    block: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    tx: t.hex().notNull(),
  }),
  (table) => ({ payeeIdx: index().on(table.payee) }),
);

/** Pass mint revenue handed to ContentAccess (PassRevenueDeposited). */
export const passRevenue = onchainTable(
  "pass_revenue",
  (t) => ({
    id: t.text().primaryKey(),
    creator: t.hex().notNull(),
    pass: t.hex().notNull(),
    amount: t.bigint().notNull(),
    block: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    tx: t.hex().notNull(),
  }),
  (table) => ({ creatorIdx: index().on(table.creator) }),
);

// ------------------------------------------------------------------ backups

/** Backup history per creator (BackupAnchored). */
export const backup = onchainTable(
  "backup",
  (t) => ({
    creator: t.hex().notNull(),
    index: t.bigint().notNull(),
    anchoredBy: t.hex().notNull(),
    pieceCid: t.hex().notNull(),
    pieceCidString: t.text().notNull(),
    sha256Digest: t.hex().notNull(),
    size: t.bigint().notNull(),
    trigger: t.integer().notNull(),
    triggerName: t.text().notNull(),
    milestoneValue: t.bigint().notNull(),
    block: t.bigint().notNull(),
    timestamp: t.bigint().notNull(),
    tx: t.hex().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.creator, table.index] }) }),
);

/** Backup delegates per creator (DelegateUpdated). */
export const backupDelegate = onchainTable(
  "backup_delegate",
  (t) => ({
    creator: t.hex().notNull(),
    delegate: t.hex().notNull(),
    allowed: t.boolean().notNull(),
    updatedBlock: t.bigint().notNull(),
  }),
  (table) => ({ pk: primaryKey({ columns: [table.creator, table.delegate] }) }),
);

// ------------------------------------------------------------------ live streams

/** Live state of every item ever streamed live (LiveStarted, LiveEnded of LiveStreams). */
export const liveStream = onchainTable(
  "live_stream",
  (t) => ({
    id: t.hex().primaryKey(), // contentId
    creator: t.hex().notNull(),
    state: t.text().notNull(), // "live" | "ended" (LiveStreams.LiveStatus)
    /** Segments and seconds LiveEnded reported; null while live. */
    segments: t.integer(),
    duration: t.bigint(),
    startedAt: t.bigint().notNull(), // block timestamp of LiveStarted
    startedBlock: t.bigint().notNull(),
    startedTx: t.hex().notNull(),
    endedAt: t.bigint(),
    endedBlock: t.bigint(),
    endedTx: t.hex(),
  }),
  (table) => ({
    // liveStreams(where: { state: "live" }, orderBy: "startedAt") and liveStreams(where: { creator }, orderBy: "startedAt"), `id` being Ponder's tie-break
    stateIdx: index().on(table.state, table.startedAt, table.id),
    creatorIdx: index().on(table.creator, table.startedAt, table.id),
  }),
);

// ------------------------------------------------------------------ platform

/** ContentAccess admin state (constructor and admin events). */
export const platform = onchainTable("platform", (t) => ({
  id: t.text().primaryKey(), // "ContentAccess"
  treasury: t.hex(),
  platformFeeBps: t.integer(),
  creatorRegistry: t.hex(),
  paused: t.boolean().notNull(),
  updatedBlock: t.bigint().notNull(),
}));

/** Payment tokens and subscription prices (PaymentTokenUpdated, SubscriptionPriceUpdated). */
export const paymentToken = onchainTable("payment_token", (t) => ({
  id: t.hex().primaryKey(), // token
  allowed: t.boolean().notNull(),
  subscriptionPrice: t.bigint().notNull(),
  updatedBlock: t.bigint().notNull(),
}));

/** Platform activity per UTC day. */
export const dailyStat = onchainTable("daily_stat", (t) => ({
  id: t.text().primaryKey(), // "YYYY-MM-DD"
  dayStart: t.bigint().notNull(),
  creatorsLaunched: t.integer().notNull(),
  contentsRegistered: t.integer().notNull(),
  purchases: t.integer().notNull(),
  subscriptions: t.integer().notNull(),
  passesMinted: t.integer().notNull(),
  coinTransfers: t.integer().notNull(),
  passTransfers: t.integer().notNull(),
  channelsOpened: t.integer().notNull(),
  channelsClosed: t.integer().notNull(),
  vouchersRedeemed: t.integer().notNull(),
  backupsAnchored: t.integer().notNull(),
  withdrawals: t.integer().notNull(),
}));

/** Money moved per UTC day per token. */
export const dailyVolume = onchainTable(
  "daily_volume",
  (t) => ({
    day: t.text().notNull(),
    token: t.hex().notNull(),
    dayStart: t.bigint().notNull(),
    purchaseVolume: t.bigint().notNull(),
    subscriptionVolume: t.bigint().notNull(),
    passMintVolume: t.bigint().notNull(),
    streamingVolume: t.bigint().notNull(),
    platformFees: t.bigint().notNull(),
    creatorEarnings: t.bigint().notNull(),
    collaboratorEarnings: t.bigint().notNull(),
    refunds: t.bigint().notNull(),
    withdrawn: t.bigint().notNull(),
  }),
  // dailyVolumes(where: { token })
  (table) => ({ pk: primaryKey({ columns: [table.day, table.token] }), tokenIdx: index().on(table.token, table.day) }),
);

// ------------------------------------------------------------------ relations (GraphQL nesting)

export const creatorRelations = relations(creator, ({ many }) => ({
  contents: many(content),
  coinHolders: many(coinHolding),
  passHolders: many(passHolding),
  backups: many(backup),
  liveStreams: many(liveStream),
}));

export const contentRelations = relations(content, ({ one, many }) => ({
  creatorProfile: one(creator, { fields: [content.creator], references: [creator.id] }),
  revisions: many(contentRevision),
  purchases: many(accessPurchase),
  grants: many(accessGrant),
  collaboratorRows: many(contentCollaborator),
  channels: many(channel),
  streamPrice: one(streamPrice, { fields: [content.id], references: [streamPrice.id] }),
  liveStream: one(liveStream, { fields: [content.id], references: [liveStream.id] }),
}));

export const contentRevisionRelations = relations(contentRevision, ({ one }) => ({
  content: one(content, { fields: [contentRevision.contentId], references: [content.id] }),
}));
export const accessPurchaseRelations = relations(accessPurchase, ({ one }) => ({
  content: one(content, { fields: [accessPurchase.contentId], references: [content.id] }),
}));
export const accessGrantRelations = relations(accessGrant, ({ one }) => ({
  content: one(content, { fields: [accessGrant.contentId], references: [content.id] }),
}));
export const contentCollaboratorRelations = relations(contentCollaborator, ({ one }) => ({
  content: one(content, { fields: [contentCollaborator.contentId], references: [content.id] }),
}));
export const coinHoldingRelations = relations(coinHolding, ({ one }) => ({
  creatorProfile: one(creator, { fields: [coinHolding.creator], references: [creator.id] }),
}));
export const passHoldingRelations = relations(passHolding, ({ one }) => ({
  creatorProfile: one(creator, { fields: [passHolding.creator], references: [creator.id] }),
}));
export const backupRelations = relations(backup, ({ one }) => ({
  creatorProfile: one(creator, { fields: [backup.creator], references: [creator.id] }),
}));
export const channelRelations = relations(channel, ({ one, many }) => ({
  content: one(content, { fields: [channel.contentId], references: [content.id] }),
  redemptions: many(voucherRedemption),
  sessionKeys: many(sessionKey),
}));
export const liveStreamRelations = relations(liveStream, ({ one }) => ({
  content: one(content, { fields: [liveStream.id], references: [content.id] }),
  creatorProfile: one(creator, { fields: [liveStream.creator], references: [creator.id] }),
}));
export const streamPriceRelations = relations(streamPrice, ({ one }) => ({
  content: one(content, { fields: [streamPrice.id], references: [content.id] }),
}));
export const voucherRedemptionRelations = relations(voucherRedemption, ({ one }) => ({
  channel: one(channel, { fields: [voucherRedemption.channelId], references: [channel.id] }),
}));
export const sessionKeyRelations = relations(sessionKey, ({ one }) => ({
  channel: one(channel, { fields: [sessionKey.channelId], references: [channel.id] }),
}));
