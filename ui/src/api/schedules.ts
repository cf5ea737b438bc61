import { api, get, post, query } from './client.js';
import type { wire } from '../../../src/shared/index.js';
import type { Json } from './types.js';

/** A schedule as the server sends it (docs/triggers.md). */
export type Schedule = wire.Schedule;

export type ScheduleFire = wire.ScheduleFire;

export interface NewSchedule {
  path: string;
  cron: string;
  timezone: string;
  workload: Record<string, Json>;
  version?: number;
  enabled: boolean;
  catchup: Schedule['catchup'];
  overlap: Schedule['overlap'];
  description?: string;
}

const one = (id: string) => `/api/schedules/${encodeURIComponent(id)}`;

export const listSchedules = (signal?: AbortSignal) =>
  get<{ items: Schedule[]; count: number }>('/api/schedules', signal);
export const getSchedule = (id: string, signal?: AbortSignal) => get<Schedule>(one(id), signal);
export const scheduleFires = (id: string, limit: number, signal?: AbortSignal) =>
  get<{ items: ScheduleFire[]; count: number }>(`${one(id)}/fires${query({ limit })}`, signal);
export const createSchedule = (body: NewSchedule) => post<Schedule>('/api/schedules', body);
export const setPaused = (id: string, paused: boolean) =>
  post<Schedule>(`${one(id)}/${paused ? 'pause' : 'resume'}`);
export const triggerSchedule = (id: string) =>
  post<{ schedule_id: string; fire_time: string; execution_id: string }>(`${one(id)}/trigger`);
export const deleteSchedule = (id: string) => api<{ deleted: boolean }>('DELETE', one(id));
