export { startTwsSimulator, type TwsSimulator, type TwsSimulatorOptions, type SentGreeks, type MalformedKind, type TwsSimKnobs } from './server.js';
