export { attachBoardServer } from './server';
export {
  type AuthorizeBoard,
  type BoardAccess,
  type BoardRefusal,
  type BoardRecheck,
  type BoardLogger,
  type BoardServerOptions,
  type BoardServerHandle,
  type BoardServerStats,
  type ProposedMove,
  type MoveVerdict,
  type CardMovedEvent,
  type BoardFollow,
  type BoardWatch,
  BoardCloseCode,
} from './types';
export {
  type BoardUpdatedData,
  type BoardSnapshottedData,
  type StoredBoard,
  BoardEventType,
  BoardStorageError,
  boardStream,
  boardSnapshotStream,
  loadStoredBoard,
} from './persistence';
export {
  type WorkflowBridgeGrains,
  type WorkflowBridgeOptions,
  workflowBridge,
  judgeMove,
  toMoveCard,
} from './bridge';
